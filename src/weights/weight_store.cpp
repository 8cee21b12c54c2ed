#include "weights/weight_store.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/json_input.h"
#include "base/mapped_file.h"

namespace lfm {

Status WeightStore::Add(TensorView view, const std::string& source_file) {
  auto it = tensors_.find(view.name);
  if (it != tensors_.end()) {
    return InvalidArgument("tensor '" + view.name + "' appears in both " + it->second.file + " and " + source_file);
  }
  std::string name = view.name;
  tensors_.emplace(std::move(name), Entry{std::move(view), source_file});
  return Status::Ok();
}

Result<TensorView> WeightStore::Get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return NotFound(description_ + ": missing tensor '" + name + "'");
  return it->second.view;
}

Result<TensorView> WeightStore::Get(const std::string& name, const std::vector<int64_t>& shape) const {
  LFM_ASSIGN_OR_RETURN(TensorView v, Get(name));
  if (v.shape != shape) {
    return InvalidArgument(SourceFile(name) + ": tensor '" + name + "' has shape " + ShapeToString(v.shape) +
                           ", expected " + ShapeToString(shape));
  }
  return v;
}

std::string WeightStore::SourceFile(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? std::string() : it->second.file;
}

std::vector<std::string> WeightStore::Names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [k, v] : tensors_) out.push_back(k);
  return out;
}

Result<std::unique_ptr<WeightStore>> WeightStore::OpenSafetensors(const std::vector<std::string>& paths) {
  auto store = std::make_unique<WeightStore>();
  for (const auto& p : paths) {
    LFM_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> f, SafetensorsFile::Open(p));
    std::shared_ptr<SafetensorsFile> shared(std::move(f));
    for (const auto& e : shared->header().tensors) LFM_RETURN_IF_ERROR(store->Add(shared->View(e), p));
    store->Own(shared);
  }
  store->description_ = paths.size() == 1 ? paths[0] : std::to_string(paths.size()) + " safetensors files";
  return store;
}

Result<std::unique_ptr<WeightStore>> WeightStore::OpenDirectory(const std::string& dir) {
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (!FileExists(index_path)) {
    const std::string single = dir + "/model.safetensors";
    if (!FileExists(single)) {
      return NotFound(dir + ": no model.safetensors or model.safetensors.index.json");
    }
    return OpenSafetensors({single});
  }
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(index_path, file_limits::kWeightIndex));
  LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(text, index_path));
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
    return InvalidArgument(index_path + ": missing object 'weight_map'");
  }
  std::map<std::string, std::string> wanted;  // tensor -> shard file name
  std::set<std::string> shards;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) {
      return InvalidArgument(index_path + ": weight_map['" + it.key() + "'] is not a string");
    }
    std::string shard = it.value().get<std::string>();
    // Shards live next to the index; anything else is refused rather than followed.
    if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
        shard == "." || shard == "..") {
      return InvalidArgument(index_path + ": weight_map['" + it.key() + "'] names an invalid shard file '" +
                             shard + "'");
    }
    wanted[it.key()] = shard;
    shards.insert(shard);
  }
  std::vector<std::string> paths;
  for (const auto& s : shards) paths.push_back(dir + "/" + s);
  LFM_ASSIGN_OR_RETURN(auto store, OpenSafetensors(paths));
  for (const auto& [tensor, shard] : wanted) {
    std::string src = store->SourceFile(tensor);
    if (src.empty()) {
      return NotFound(index_path + ": tensor '" + tensor + "' is listed in shard " + shard + " but not found there");
    }
    if (src != dir + "/" + shard) {
      return InvalidArgument(index_path + ": tensor '" + tensor + "' is listed in shard " + shard +
                             " but stored in " + src);
    }
  }
  store->description_ = index_path;
  return store;
}

}  // namespace lfm
