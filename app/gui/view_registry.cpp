#include "view.hpp"

namespace moescope::gui {

// One line per view, in tab order. Each is defined in its own view_<key>.cpp (`const ViewInfo
// <key>_view`); adding a view is that file plus one line here.
#define MOESCOPE_VIEWS(VIEW) \
  VIEW(router_view)          \
  VIEW(inside_view)          \
  VIEW(path_view)            \
  VIEW(load_view)            \
  VIEW(coactivation_view)    \
  VIEW(domains_view)         \
  VIEW(playground_view)      \
  VIEW(experts_view)         \
  VIEW(model_view)           \
  VIEW(train_view)           \
  VIEW(systems_view)         \
  /* the last line of the list */

#define MOESCOPE_DECLARE_VIEW(name) extern const ViewInfo name;
MOESCOPE_VIEWS(MOESCOPE_DECLARE_VIEW)
#undef MOESCOPE_DECLARE_VIEW

const std::vector<const ViewInfo*>& views() {
#define MOESCOPE_LIST_VIEW(name) &name,
  static const std::vector<const ViewInfo*> all = {MOESCOPE_VIEWS(MOESCOPE_LIST_VIEW)};
#undef MOESCOPE_LIST_VIEW
  return all;
}

const ViewInfo* find_view(std::string_view key) {
  for (const ViewInfo* view : views())
    if (key == view->key) return view;
  return nullptr;
}

std::vector<std::string> view_keys() {
  std::vector<std::string> keys;
  for (const ViewInfo* view : views()) keys.emplace_back(view->key);
  return keys;
}

}  // namespace moescope::gui
