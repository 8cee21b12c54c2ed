// HF decoders: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lfm/status.h"
#include "text/json_fields.h"

namespace lfm {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // HF decode_chain: rewrites the token strings of a whole sequence (the caller joins the result).
  virtual void DecodeChain(std::vector<std::string>& tokens) const = 0;
  // The raw bytes one token contributes in a stream, `first` if it is the first token decoded. Unlike
  // DecodeChain, bytes are not UTF-8-repaired here (the streaming detokenizer waits for full characters).
  virtual void DecodeToken(std::string& token, bool first) const = 0;
};

Result<std::unique_ptr<Decoder>> DecoderFromJson(const tokenizer_json::Json& j, const tokenizer_json::Where& w);

}  // namespace lfm
