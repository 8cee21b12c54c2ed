// Validates every MaskBench instance of the shared JSONSchemaBench sample and reports agreement with
// the dataset's labels (which come from the Python/Rust `jsonschema` validators, so 100% is not
// expected: they differ on formats, regex dialects and draft-04 details). The floors only catch
// regressions; the printed table is the figure the grammar team uses.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "base/mapped_file.h"
#include "base/timer.h"
#include "grammar/json_schema_validator.h"
#include "json_schema_validator_test_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using nlohmann::json;

// Under ASan/UBSan (CI runs the suite that way) the full set takes minutes; every 20th record still
// exercises the code. Floors are therefore fractions.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
constexpr int kStride = 20;
#else
constexpr int kStride = 1;
#endif

struct Row {
  int schemas = 0, compile_errors = 0;
  int valid_ok = 0, valid_rejected = 0, invalid_ok = 0, invalid_accepted = 0;
};

struct Totals {
  std::map<std::string, Row> by_subset;
  Row all;
  std::vector<std::string> samples;  // a few disagreements, for investigation
};

Totals RunMaskBench(bool assert_formats) {
  Totals t;
  std::string dir = testing::TestData("jsonschemabench");
  std::ifstream manifest(dir + "/MANIFEST.tsv");
  EXPECT_TRUE(manifest.good());
  std::string line;
  std::getline(manifest, line);  // header
  JsonSchemaValidator::Options opts;
  opts.assert_formats = assert_formats;
  opts.load_document = testing::LoadMetaschema;
  int record = 0;
  while (std::getline(manifest, line)) {
    if (record++ % kStride != 0) continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    if (cols.size() < 8 || cols[7] != "included") continue;
    auto text = ReadFileToString(dir + "/maskbench-data/" + cols[1]);
    EXPECT_TRUE(text.ok()) << cols[1];
    if (!text.ok()) continue;
    json rec = json::parse(*text, nullptr, false);
    if (rec.is_discarded() || !rec.contains("schema")) {
      ADD_FAILURE() << "bad record " << cols[1];
      continue;
    }
    Row& r = t.by_subset[cols[0]];
    ++r.schemas;
    auto v = JsonSchemaValidator::Compile(rec["schema"], opts);
    const json& tests = rec.contains("tests") ? rec["tests"] : json::array();
    if (!v.ok()) {
      ++r.compile_errors;
      if (t.samples.size() < 40) t.samples.push_back(cols[1] + ": compile: " + v.status().ToString());
      continue;
    }
    for (const json& tc : tests) {
      bool expected = tc.value("valid", false);
      std::vector<ValidationError> errors;
      bool got = v->Validate(tc["data"], &errors);
      if (expected) (got ? r.valid_ok : r.valid_rejected)++;
      else (got ? r.invalid_accepted : r.invalid_ok)++;
      if (got != expected && t.samples.size() < 40 && (t.samples.empty() || t.samples.back().rfind(cols[1], 0) != 0)) {
        t.samples.push_back(cols[1] + ": labelled " + (expected ? "valid" : "invalid") +
                            (got ? ", accepted" : ", rejected: " + errors.front().instance_pointer + " " +
                                                      errors.front().schema_pointer + " " + errors.front().message));
      }
    }
  }
  for (const auto& [name, r] : t.by_subset) {
    t.all.schemas += r.schemas;
    t.all.compile_errors += r.compile_errors;
    t.all.valid_ok += r.valid_ok;
    t.all.valid_rejected += r.valid_rejected;
    t.all.invalid_ok += r.invalid_ok;
    t.all.invalid_accepted += r.invalid_accepted;
  }
  return t;
}

double Agreement(const Row& r) {
  int agree = r.valid_ok + r.invalid_ok;
  int total = agree + r.valid_rejected + r.invalid_accepted;
  return total ? static_cast<double>(agree) / total : 0.0;
}

void Print(const Totals& t, const char* title) {
  std::printf("[maskbench] %s\n", title);
  std::printf("  %-16s %7s %7s %9s %9s %9s %9s\n", "subset", "schemas", "cerr", "valid_ok", "valid_rej", "inval_ok",
              "inval_acc");
  auto row = [](const std::string& name, const Row& r) {
    std::printf("  %-16s %7d %7d %9d %9d %9d %9d\n", name.c_str(), r.schemas, r.compile_errors, r.valid_ok,
                r.valid_rejected, r.invalid_ok, r.invalid_accepted);
  };
  for (const auto& [name, r] : t.by_subset) row(name, r);
  row("TOTAL", t.all);
  int agree = t.all.valid_ok + t.all.invalid_ok;
  int total = agree + t.all.valid_rejected + t.all.invalid_accepted;
  std::printf("  agreement %d / %d = %.2f%%\n", agree, total, total ? 100.0 * agree / total : 0.0);
  for (const auto& s : t.samples) std::printf("    %s\n", s.c_str());
}

TEST(JsonSchemaMaskBench, AgreementWithLabels) {
  Timer timer;
  Totals t = RunMaskBench(false);
  Print(t, "format as annotation (default)");
  std::printf("  time %.2f s\n", timer.Seconds());
  EXPECT_GT(t.all.schemas, 9000 / kStride);
  // Measured when written: 30,011 of 30,794 (97.46%; all 11,992 valid accepted; the 783 disagreements
  // are invalid instances that only break a "format", accepted here by design).
  EXPECT_GE(Agreement(t.all), 0.95);
  EXPECT_EQ(t.all.valid_rejected, 0);
  EXPECT_LE(t.all.compile_errors, 2);
}

// The labels were produced with format checking on, so this is the closer comparison.
TEST(JsonSchemaMaskBench, AgreementWithLabelsFormatsAsserted) {
  Timer timer;
  Totals t = RunMaskBench(true);
  Print(t, "format asserted");
  std::printf("  time %.2f s\n", timer.Seconds());
  EXPECT_GT(t.all.schemas, 9000 / kStride);
  // Measured when written: 30,794 of 30,794. The floor leaves room because the labels come from
  // other validators (Python/Rust jsonschema), not from the spec.
  EXPECT_GE(Agreement(t.all), 0.999);
  EXPECT_LE(t.all.compile_errors, 2);
}

}  // namespace
}  // namespace lfm
