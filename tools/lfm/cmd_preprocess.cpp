// lfm preprocess: runs the LFM2-VL image preprocessing alone and dumps what the model would get:
// tile grid, crop shapes, token counts and the image-token expansion (no model weights needed).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "image/image.h"
#include "image/lfm2vl_processor.h"

namespace lfm::cli {

void RegisterPreprocess(CLI::App& app, Runners& runners) {
  struct Opts {
    std::string model_dir;
    std::vector<std::string> images;
    bool json = false, no_exif = false, legacy_row_col = false;
    int min_tokens = 0, max_tokens = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "preprocess",
      "Run LFM2-VL image preprocessing (HF Lfm2VlImageProcessor semantics) and print the tile grid,\n"
      "crop shapes, image-token counts and the prompt expansion of each image. Reads only the model's\n"
      "processor configs, not its weights.");
  SetExamples(sub, {
      R"ex(lfm preprocess -m models/LFM2.5-VL-450M --image photo.jpg --json)ex",
  });
  sub->add_option("-m,--model", o->model_dir,
                  "Model directory (preprocessor_config.json / processor_config.json / tokenizer_config.json)")
      ->required();
  sub->add_option("--image", o->images, "Image file (JPEG, PNG, WebP, GIF, BMP); repeatable")->required();
  sub->add_option("--image-min-tokens", o->min_tokens, "Override min_image_tokens");
  sub->add_option("--image-max-tokens", o->max_tokens, "Override max_image_tokens");
  sub->add_flag("--no-exif", o->no_exif, "Do not apply EXIF orientation (HF applies it when loading images)");
  sub->add_flag("--legacy-row-col", o->legacy_row_col,
                "Label tiles as transformers <= 4.57 did (row/col swapped for non-square grids)");
  sub->add_flag("--json", o->json, "Print one JSON object");
  runners.emplace_back(sub, [o]() {
    auto config = Lfm2VlProcessorConfig::FromModelDir(o->model_dir);
    if (!config.ok()) {
      std::fprintf(stderr, "lfm preprocess: %s\n", config.status().ToString().c_str());
      return 1;
    }
    if (o->min_tokens > 0) config->min_image_tokens = o->min_tokens;
    if (o->max_tokens > 0) config->max_image_tokens = o->max_tokens;
    config->legacy_transposed_row_col = o->legacy_row_col;
    if (Status st = config->Validate(); !st.ok()) {
      std::fprintf(stderr, "lfm preprocess: %s\n", st.ToString().c_str());
      return 2;
    }
    DecodeOptions dopts;
    dopts.apply_exif = !o->no_exif;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& path : o->images) {
      auto img = DecodeImageFile(path, dopts);
      if (!img.ok()) {
        std::fprintf(stderr, "lfm preprocess: %s: %s\n", path.c_str(), img.status().ToString().c_str());
        return 1;
      }
      PreprocessOptions popts;
      popts.include_pixels = false;
      auto pre = PreprocessLfm2Vl(*img, *config, popts);
      if (!pre.ok()) {
        std::fprintf(stderr, "lfm preprocess: %s: %s\n", path.c_str(), pre.status().ToString().c_str());
        return 1;
      }
      const int tokens_per_tile = pre->crops.empty() ? 0 : pre->crops.front().tokens;
      if (o->json) {
        nlohmann::ordered_json crops = nlohmann::ordered_json::array();
        for (const auto& c : pre->crops)
          crops.push_back({{"marker", c.marker}, {"height", c.height}, {"width", c.width},
                           {"spatial_shape", {c.patches_h, c.patches_w}}, {"tokens", c.tokens}});
        out.push_back({{"image", path},
                       {"width", img->width},
                       {"height", img->height},
                       {"rows", pre->rows},
                       {"cols", pre->cols},
                       {"thumbnail", pre->thumbnail},
                       {"resized", {pre->resized_height, pre->resized_width}},
                       {"tokens_per_tile", tokens_per_tile},
                       {"image_tokens", pre->image_tokens},
                       {"max_num_patches", pre->max_num_patches},
                       {"crops", crops},
                       {"expanded", pre->expanded_prompt}});
      } else {
        std::printf("%s: %dx%d -> %s %dx%d grid%s, %d image tokens\n", path.c_str(), img->width, img->height,
                    pre->crops.size() > 1 ? "tiled" : "single crop", pre->rows, pre->cols,
                    pre->thumbnail ? " + thumbnail" : "", pre->image_tokens);
        for (const auto& c : pre->crops)
          std::printf("  crop %-20s %4dx%-4d px  %2dx%-2d patches  %4d tokens\n",
                      c.marker.empty() ? "(single)" : c.marker.c_str(), c.height, c.width, c.patches_h, c.patches_w,
                      c.tokens);
      }
    }
    if (o->json) std::printf("%s\n", nlohmann::ordered_json{{"images", out}}.dump().c_str());
    return 0;
  });
}

}  // namespace lfm::cli
