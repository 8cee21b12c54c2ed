// Internal representation of a compiled JSON Schema (shared by the compiler and the evaluator).
// Every schema object becomes a Node whose keywords are pre-parsed; references point at Nodes, so
// recursive schemas are cyclic graphs owned by CompiledSchema.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/json_schema_validator_regex.h"

namespace lfm::jsv {

using json = nlohmann::json;

enum class Dialect { kDraft7, kDraft2019, kDraft2020 };

enum TypeBit : uint8_t {
  kNull = 1, kBoolean = 2, kObject = 4, kArray = 8, kNumber = 16, kString = 32, kInteger = 64,
};

struct Node;

// A schema resource: a schema with an $id (or a document root). $dynamicRef looks anchors up per
// resource along the dynamic scope.
struct Resource {
  std::string uri;
  Node* root = nullptr;
  std::unordered_map<std::string, Node*> dynamic_anchors;
};

struct Node {
  const json* src = nullptr;
  std::string location;  // "<document uri>#<pointer>", the absolute keyword location prefix
  Resource* resource = nullptr;
  std::string base;      // base URI in effect (no fragment)
  Dialect dialect = Dialect::kDraft2020;

  bool is_bool = false, bool_value = true;
  bool assert_format = false;
  bool draft4_integer = false;  // draft-04: 1.0 is a number but not an integer

  // In-place applicators.
  Node* ref = nullptr;
  Node* dynamic_ref = nullptr;
  std::string dynamic_name;  // non-empty: resolve through the dynamic scope
  std::vector<Node*> all_of, any_of, one_of;
  Node* not_ = nullptr;
  Node *if_ = nullptr, *then_ = nullptr, *else_ = nullptr;
  std::vector<std::pair<std::string, Node*>> dependent_schemas;

  // Object applicators.
  std::unordered_map<std::string, Node*> properties;
  std::vector<std::pair<EcmaRegex, Node*>> pattern_properties;
  Node* additional_properties = nullptr;
  Node* unevaluated_properties = nullptr;
  Node* property_names = nullptr;

  // Array applicators.
  std::vector<Node*> prefix_items;
  Node* items = nullptr;  // applies to every index past prefix_items
  Node* contains = nullptr;
  bool has_min_contains = false, has_max_contains = false;
  uint64_t min_contains = 1, max_contains = 0;
  Node* unevaluated_items = nullptr;

  // Validation keywords.
  uint8_t types = 0;
  bool has_type = false;
  const json* const_ = nullptr;
  const json* enum_ = nullptr;
  const json *minimum = nullptr, *maximum = nullptr, *exclusive_minimum = nullptr,
             *exclusive_maximum = nullptr, *multiple_of = nullptr;
  bool minimum_exclusive = false, maximum_exclusive = false;  // draft-04 boolean forms
  std::vector<std::string> required;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  int64_t min_length = -1, max_length = -1, min_items = -1, max_items = -1, min_properties = -1,
          max_properties = -1;
  bool unique_items = false;
  std::optional<EcmaRegex> pattern;
  bool has_format = false;
  std::string format;

  // Unresolved reference targets (absolute URIs), filled by the compiler's first pass.
  std::string ref_uri, dynamic_ref_uri;
};

struct CompiledSchema {
  std::vector<std::unique_ptr<json>> documents;
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<Resource>> resources;
  std::unordered_map<std::string, Resource*> resources_by_uri;
  std::unordered_map<std::string, Node*> anchors;  // "<base>#<name>"
  std::unordered_map<const json*, Node*> node_by_src;
  Node* root = nullptr;
  bool uses_unevaluated = false;
  int max_eval_depth = 768;
};

}  // namespace lfm::jsv
