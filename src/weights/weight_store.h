// All tensors of one model, by HF name, whatever file (or shard) each came from. Lookups fail
// closed: a missing tensor or a wrong shape is an error naming the file, the tensor and both shapes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lfm/status.h"
#include "tensor/tensor_view.h"
#include "weights/safetensors.h"

namespace lfm {

class WeightStore {
 public:
  // Opens <dir>/model.safetensors.index.json (sharded) if present, else <dir>/model.safetensors.
  static Result<std::unique_ptr<WeightStore>> OpenDirectory(const std::string& dir);
  // Opens the given safetensors files (tensor names must be unique across them).
  static Result<std::unique_ptr<WeightStore>> OpenSafetensors(const std::vector<std::string>& paths);

  bool Has(const std::string& name) const { return tensors_.count(name) != 0; }
  Result<TensorView> Get(const std::string& name) const;
  // Also checks the shape; the error names file, tensor, expected and actual shape.
  Result<TensorView> Get(const std::string& name, const std::vector<int64_t>& shape) const;
  // The file a tensor came from ("" if unknown).
  std::string SourceFile(const std::string& name) const;
  std::vector<std::string> Names() const;
  size_t size() const { return tensors_.size(); }
  // Where the tensors come from, for messages ("dir/model.safetensors" or "dir/model.safetensors.index.json").
  const std::string& description() const { return description_; }

  // Registers one tensor; used by readers. Duplicate names are an error.
  Status Add(TensorView view, const std::string& source_file);
  // Keeps a reader (and its mapping) alive as long as the store.
  void Own(std::shared_ptr<void> holder) { holders_.push_back(std::move(holder)); }
  void set_description(std::string d) { description_ = std::move(d); }

 private:
  struct Entry {
    TensorView view;
    std::string file;
  };
  std::map<std::string, Entry> tensors_;
  std::vector<std::shared_ptr<void>> holders_;
  std::string description_;
};

}  // namespace lfm
