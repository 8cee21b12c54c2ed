#include "admission_options.h"

#include <string>

namespace lfm::cli {

namespace {

template <typename T>
void AddLimit(CLI::App* sub, T& field, const AdmissionLimitInfo& info) {
  std::string flag = "--" + info.name;
  for (char& c : flag) c = c == '_' ? '-' : c;
  sub->add_option(flag, field, "Limit: " + info.description)->capture_default_str()->group("Request limits");
}

}  // namespace

void AdmissionOptions::Add(CLI::App* sub) {
  const auto rows = ListAdmissionLimits(limits);
  // ListAdmissionLimits gives the limits in check order; the fields follow the same order.
  AddLimit(sub, limits.max_request_bytes, rows[0]);
  AddLimit(sub, limits.max_json_depth, rows[1]);
  AddLimit(sub, limits.max_messages, rows[2]);
  AddLimit(sub, limits.max_content_parts, rows[3]);
  AddLimit(sub, limits.max_text_bytes, rows[4]);
  AddLimit(sub, limits.max_images, rows[5]);
  AddLimit(sub, limits.max_image_bytes, rows[6]);
  AddLimit(sub, limits.max_image_pixels, rows[7]);
  std::string footer =
      "\nRequest limits are checked in the order listed, before any rendering, tokenizing or image decoding;\n"
      "a request over one is refused with the limit's name, the value found and the flag that raises it.\n"
      "Then the token budget: the prompt's text tokens plus each image's minimum token count (from its\n"
      "header size and min_image_tokens) must fit the context (-c), or the request is refused before any\n"
      "image is decoded.";
  // Appended: the subcommand's Examples section may already be there.
  sub->footer(sub->get_footer().empty() ? footer : sub->get_footer() + "\n" + footer);
}

}  // namespace lfm::cli
