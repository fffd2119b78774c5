#pragma once
// Words from BPE pieces, so a class reads "Guten Morgen" and not "G ut en M or gen": the token
// strip and heatmaps can draw a word's pieces together (each piece keeps its own routing).
#include <string>
#include <vector>

namespace moe {

// The word each token belongs to (0, 1, 2, … in order), from the tokens' bytes. A piece starts
// a new word when it begins with a space or another whitespace character (also the vocabularies'
// own space marks "Ġ" and "▁"), when it is punctuation or follows punctuation or whitespace, and
// at the first token. Pieces without letters after a word (digits, symbols) start a word too.
std::vector<int> word_of_tokens(const std::vector<std::string>& pieces);

// How many tokens make each word of the text, for judging a vocabulary ("Guten" = G + ut + en is
// 3): words are the runs of non-whitespace bytes of the pieces' concatenation (pieces are the
// tokens' bytes, not display text), and a token counts for every word it gives a byte to.
std::vector<int> tokens_per_word(const std::vector<std::string>& pieces);

}  // namespace moe
