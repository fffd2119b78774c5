#pragma once
// The scripted mode (`moescope --script FILE`): drives the real app frame by frame for tests
// and for making the screenshots of the docs. One command per line, '#' starts a comment:
//
//   model PATH           open a GGUF model (waits for it)
//   demo-model PATH      write a random-weight demo model there if missing, open it
//   prompt TEXT          set the prompt at once (\n in TEXT is a newline)
//   type TEXT            type TEXT one character per frame, like a person
//   wait                 until the worker is idle and the views show the latest prompt
//   generate N           generate N tokens with the current settings, then wait
//   select-token N       select token N (negative: from the end, -1 is the last)
//   hover-token N        put the pointer on token N of the token strip (shows its tooltip)
//   layer N              select MoE layer N (a model layer id)
//   panel NAME           show a view (its key in view_registry.cpp: router, path, load ...)
//   theme dark|light
//   font-size PIXELS
//   open-dialog          open the model file dialog (close-dialog closes it)
//   save-session FILE    save the session (model, prompt, view, routing) as the dialog does
//   open-session FILE    reopen a saved session (waits until it is recomputed and checked)
//   export-figure FILE   export the first figure of the current view through its Export
//                        dialog (format from the extension: .png, .svg, .pdf)
//   export-data KIND FILE  through the data export dialog; KIND: trace-json, trace-csv, load-csv
//   frames N             render N frames
//   screenshot FILE.png  save the window as PNG
//   expect-error         wait for an error dialog (and close it); the script fails without one
//   train-knob NAME VALUE  set a Train tab knob (experts, top-k, balance, z-loss, lr, seed);
//                        train-reset applies the knobs (a new model from step 0)
//   train-steps N        train until the Train tab's run has done N steps (waits)
//   disable-expert L:E   knock expert E out at layer L (L a number or all), as the Playground
//   top-k K              top-k override at every layer (0: the model's own)
//   routing RULE         topk, capacity:FACTOR or expert-choice; or a router knob:
//                        temperature:T, noise:SCALE[:SEED], scoring:softmax|sigmoid|model,
//                        bias:EXPERT:VALUE (VALUE 0 removes the expert's bias)
//   reset-routing        back to the model's own routing
//   explain-expert E     the vocabulary of expert E at the selected layer (waits)
//   compare-prompt TEXT  compare the load with prompt B (waits)
//   tour N               show step N (from 1) of the guided tour; tour 0 closes it
//   presenter 1|0        enter or leave presenter mode (one view fills the window)
//   key NAME             press a key: left, right, up, down, tab, escape, f5
//   press LABEL          press the button (or toggle the checkbox) with this label in the view
//                        shown (widgets.hpp's button and checkbox); fails when there is no
//                        such enabled control
//   drop PATH            as if PATH were dropped on the window (a model, a saved session or a
//                        corpus profile, .moeprofile); waits for the worker
//   open PATH            the same, as File > Open does it
//   connect URL CONFIG   File > Connect to server: route the prompt on the SGLang server at URL
//                        (CONFIG: the model's config.json); does not wait (use wait)
//   import-trace FILE [CONFIG]  File > Import trace; does not wait (use wait)
//   cancel-request       the status bar's Cancel: stops a load or a server request
//   exit                 leave with status 0 if nothing went wrong
//
// Any error dialog that was not expected, a GL error, or a timeout makes the app exit non-zero.
#include <string>
#include <string_view>
#include <vector>

namespace moescope::gui {

enum class ScriptKind {
  Model,
  DemoModel,
  Prompt,
  Type,
  Wait,
  Generate,
  SelectToken,
  HoverToken,
  Layer,
  Panel,
  Theme,
  FontSize,
  OpenDialog,
  SaveSession,
  OpenSession,
  ExportFigure,
  ExportData,
  DisableExpert,
  TopK,
  Routing,
  ResetRouting,
  ExplainExpert,
  ComparePrompt,
  Tour,
  Press,
  Presenter,
  Key,
  Drop,
  Connect,
  ImportTrace,
  CancelRequest,
  CloseDialog,
  Frames,
  Screenshot,
  ExpectError,
  TrainKnob,
  TrainReset,
  TrainSteps,
  Exit
};

struct ScriptCommand {
  ScriptKind kind = ScriptKind::Wait;
  std::string text;  // path, prompt text, panel or theme name
  int number = 0;    // count, token, layer, pixels
  int line = 0;      // in the script file, for messages
};

// Throws moe::Error("script line N: ...") for an unknown command or a bad argument. `panel`
// accepts the keys in `view_keys` (the app passes those of its view registry).
std::vector<ScriptCommand> parse_script(std::string_view text,
                                        const std::vector<std::string>& view_keys);

}  // namespace moescope::gui
