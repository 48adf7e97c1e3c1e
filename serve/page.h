// The comparison page served at GET /: one static HTML page with its script and style
// inline, nothing loaded from elsewhere. Type sentences, tick models, and see each model's
// translations side by side, with the n-best list, the cross-attention heatmap (or a note
// that the model has none) and the time taken.
#pragma once

#include <string>

namespace nmt::serve {

const std::string& page_html();

}  // namespace nmt::serve
