#include "explanations.hpp"

#include "view.hpp"

namespace moescope::gui {

namespace {

// The column left of and above the views; each view's text is in its ViewInfo.
const std::vector<Explanation>& column_explanations() {
  static const std::vector<Explanation> all = {
      {"prompt", "Type a prompt",
       "Everything starts here. Type anything, or pick an example: a sum, a poem request, a\n"
       "sentence in German. The model splits the text into tokens and sends every token\n"
       "through its layers. In each MoE layer a small network, the router, picks a few experts\n"
       "(top-k) out of many to process that token."},
      {"strip", "The tokens and their first expert",
       "Each box is one token, coloured by the expert the router chose first at the selected\n"
       "layer (each expert keeps its colour in every view). Hover a token for the router's\n"
       "scores; click it to select it for the other views. Up/Down changes the layer."},
  };
  return all;
}

}  // namespace

const std::vector<Explanation>& explanations() {
  static const std::vector<Explanation> all = [] {
    std::vector<Explanation> steps = column_explanations();
    for (const ViewInfo* view : views()) steps.push_back({view->key, view->title, view->help});
    return steps;
  }();
  return all;
}

const char* explanation_for(const std::string& panel) {
  for (const Explanation& explanation : explanations())
    if (panel == explanation.panel) return explanation.text;
  return "";
}

}  // namespace moescope::gui
