#include "explanations.hpp"

namespace moescope::gui {

const std::vector<Explanation>& explanations() {
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
      {"router", "Router scores",
       "For the selected token and layer: the router's probability for every expert. The\n"
       "outlined bars are the top-k experts that really run; their gate weights (the numbers)\n"
       "say how much each contributes to the output. Below, the same for every token at once:\n"
       "a row per token, a column per expert."},
      {"path", "Token path",
       "The route of one token through the whole model: a row per layer, the experts it\n"
       "visited lit up by their gate weight. Dense layers (no experts) are marked as such."},
      {"load", "Expert load",
       "How many tokens each expert got at a layer. The dashed line is what perfectly even\n"
       "routing would give. Training adds a balancing loss so that no expert sits idle and none\n"
       "is overloaded; CV and the Switch auxiliary loss measure how even the load is."},
      {"coactivation", "Co-activation and transitions",
       "Left: how often two experts were chosen together for the same token. Right: when a\n"
       "token used expert A at this layer, which experts it used at the next layer."},
      {"domains", "Domains",
       "The bundled prompt sets (code, maths, German, ...) routed one by one: which experts\n"
       "each domain uses, and how much knowing the expert tells you about the domain (mutual\n"
       "information in bits; 0 = experts ignore the domain)."},
      {"playground", "Playground",
       "Change the router and measure the effect: fewer experts per token, knock an expert\n"
       "out, force a token through an expert, or use another routing rule. The changed model\n"
       "is compared with the unchanged one on the same prompt."},
      {"experts", "What does an expert do?",
       "Pick a layer and an expert to list the tokens it receives most, in context. Compare\n"
       "two prompts to see which experts one uses more than the other."},
      {"model", "Model",
       "The architecture in numbers: layers, experts, top-k, and the total parameters against\n"
       "the ones one token really uses. That gap is why MoE models are fast for their size."},
      {"train", "Train a tiny MoE",
       "Train a small MoE from scratch on the bundled text and watch experts specialize.\n"
       "Set the balancing loss to 0 to see expert collapse: a few experts take every token."},
  };
  return all;
}

const char* explanation_for(const std::string& panel) {
  for (const Explanation& explanation : explanations())
    if (panel == explanation.panel) return explanation.text;
  return "";
}

}  // namespace moescope::gui
