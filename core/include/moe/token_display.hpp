#pragma once
// How a token's bytes are shown to a person: one rule for the app's token strip, figure labels
// and tooltips and for the CLI's tables, so the tools cannot drift apart. Data files (JSON, CSV)
// keep the token's own text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class Tokenizer;

// How a leading space is shown ("·the"), everywhere a token's text is shown. A middle dot, in
// every font the app and the figures use (the app's font has no "␣").
inline constexpr const char* kVisibleSpace = "\xC2\xB7";  // ·

// Valid UTF-8 stays as it is; a byte that is not part of a valid character becomes <0xNN>; a
// newline becomes "\n" and a tab "\t" so a token stays on one line; every other control
// character (C0, DEL, C1) becomes <0xNN> (<U+NNNN> for C1) so no token text can drive a terminal;
// leading spaces show as "·".
std::string display_token_text(std::string_view bytes);

// Running text (a prompt, generated text) for a terminal: kept as it is, newlines and tabs
// included, except that every other ASCII control byte and DEL becomes <0xNN>, so no text can
// drive the terminal (colours, bells, cursor moves).
std::string terminal_text(std::string_view bytes);

// Display text for a sequence of tokens (their bytes, in order). Like display_token_text, except
// that a character split across byte tokens (a byte-level vocabulary meeting Cyrillic or CJK)
// is shown whole on the token with its first byte, and as "◦" on tokens that only continue it.
// Bytes that form no valid character anywhere still show as <0xNN>.
std::vector<std::string> display_token_texts(const std::vector<std::string>& pieces);

// The display texts of token ids, as above; a byte token of one ASCII byte (SentencePiece's
// <0x0A>) reads as the vocabulary spells it, so it never looks like the text token "\n".
std::vector<std::string> display_token_texts(const Tokenizer& tokenizer,
                                             const std::vector<int32_t>& ids);

}  // namespace moe
