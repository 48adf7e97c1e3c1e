// The one file format for models and training checkpoints: configuration (key -> value),
// opaque blobs (vocabularies, RNG state, corpus position...) and named float32 tensors.
//
// Layout (little-endian):
//   header  "NMTMODEL" | u32 version (= 1) | u32 reserved (0) | u64 body size
//   body    sections, each: 4-byte tag | u64 payload size | payload
//             "CONF": u64 count, then (key, value) strings      strings: u64 length + bytes
//             "BLOB": u64 count, then (name, bytes) strings
//             "TENS": u64 count, then per tensor: name string, u32 rank, rank x i64 dims,
//                     numel x f32 data
//           unknown tags are skipped (room for additions within version 1)
//   trailer u32 CRC-32 (zlib) of the body
// Loading checks magic, version, size, checksum and every length against the bytes left,
// so a corrupt length field cannot make us allocate an absurd amount; every failure is an
// nmt::InputError naming the file and what is wrong.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/params.h"
#include "core/tensor.h"

namespace nmt {

class Adam;

constexpr uint32_t kModelFileVersion = 1;

struct ModelFile {
  std::map<std::string, std::string> config;
  std::map<std::string, std::string> blobs;
  std::vector<std::pair<std::string, Tensor>> tensors;

  // The tensor called `name`, or nullptr.
  const Tensor* find_tensor(const std::string& name) const;
};

// Atomic: writes path.tmp.<pid>, fsyncs it, renames it over `path` (and fsyncs the
// directory). On failure the temporary file is removed and an existing `path` is left
// as it was; throws nmt::InputError (cannot write: reason) or nmt::Error (duplicate
// tensor names, a tensor without data).
void save_model_file(const std::string& path, const ModelFile& file);
ModelFile load_model_file(const std::string& path);
// The same from a file's bytes in memory (a checkpoint rank 0 of a distributed run read and
// sent); `path` names them in errors.
ModelFile model_file_from_bytes(const char* data, uint64_t size, const std::string& path);

// Appends every parameter of `params` as tensor prefix + name. The tensors are VIEWS of
// the store's arena (no copy): save the ModelFile before the parameters change.
// Throws nmt::Error when a tensor of that name is already in the file.
void put_params(ModelFile& file, const ParamStore& params, const std::string& prefix = "");
// Copies tensor prefix + name into each parameter of the (allocated) store. A missing
// tensor or a shape mismatch -> nmt::InputError naming the parameter (and both shapes).
// Tensors in the file that the store does not have are ignored.
void get_params(const ModelFile& file, ParamStore& params, const std::string& prefix = "");

}  // namespace nmt
