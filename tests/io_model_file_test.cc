#include <gtest/gtest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "core/params.h"
#include "io/model_file.h"
#include "op_helpers.h"
#include "training/optimizer.h"

namespace nmt {
namespace {

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nmt_model_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files()) std::remove((dir + "/" + f).c_str());
    rmdir(dir.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    DIR* d = opendir(dir.c_str());
    while (dirent* e = d ? readdir(d) : nullptr)
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.push_back(e->d_name);
    if (d) closedir(d);
    return out;
  }
  std::string read(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const std::string& path, const std::string& bytes) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  // Expects load_model_file to throw InputError mentioning the file and `what`.
  void expect_load_error(const std::string& path, const std::string& what) {
    try {
      load_model_file(path);
      ADD_FAILURE() << "no error loading " << path << " (expected: " << what << ")";
    } catch (const InputError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find(what), std::string::npos) << m;
    }
  }

  static ModelFile sample() {
    ModelFile f;
    f.config["model"] = "transformer";
    f.config["dim"] = "512";
    f.config[""] = "empty key";
    f.blobs["src.spm"] = std::string("\0\x01\xff\0bytes\n\r\0", 13);
    f.blobs["empty"] = "";
    Tensor w({2, 3});
    const float special[] = {1.5f,
                             -0.f,
                             std::numeric_limits<float>::denorm_min(),
                             std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::quiet_NaN(),
                             -3.25e-12f};
    for (int i = 0; i < 6; ++i) w[i] = special[i];
    f.tensors.emplace_back("enc.w", w);
    f.tensors.emplace_back("scalar", Tensor::full({}, 7.f));
    f.tensors.emplace_back("empty", Tensor::zeros({0, 4}));
    f.tensors.emplace_back("long", Tensor::full({1000, 3}, 0.125f));
    return f;
  }

  std::string dir;
};

void expect_bit_equal(const Tensor& a, const Tensor& b, const std::string& name) {
  ASSERT_EQ(a.shape(), b.shape()) << name;
  if (a.numel()) {
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.numel() * sizeof(float)), 0) << name;
  }
}

TEST_F(ModelFileTest, RoundTrip) {
  const std::string path = dir + "/model.bin";
  ModelFile f = sample();
  save_model_file(path, f);
  ModelFile g = load_model_file(path);
  EXPECT_EQ(g.config, f.config);
  EXPECT_EQ(g.blobs, f.blobs);
  EXPECT_EQ(g.blobs["src.spm"].size(), 13u);
  ASSERT_EQ(g.tensors.size(), f.tensors.size());
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    EXPECT_EQ(g.tensors[i].first, f.tensors[i].first);  // order kept
    expect_bit_equal(g.tensors[i].second, f.tensors[i].second, f.tensors[i].first);
  }
  ASSERT_NE(g.find_tensor("scalar"), nullptr);
  EXPECT_EQ(g.find_tensor("nope"), nullptr);
  EXPECT_EQ(files(), std::vector<std::string>{"model.bin"});  // no temporary left behind
  // Starts with the magic and version 1, little-endian.
  std::string bytes = read(path);
  EXPECT_EQ(bytes.substr(0, 12), std::string("NMTMODEL\x01\0\0\0", 12));
}

TEST_F(ModelFileTest, EmptyModelFile) {
  const std::string path = dir + "/empty.bin";
  save_model_file(path, ModelFile{});
  ModelFile g = load_model_file(path);
  EXPECT_TRUE(g.config.empty());
  EXPECT_TRUE(g.blobs.empty());
  EXPECT_TRUE(g.tensors.empty());
}

TEST_F(ModelFileTest, TruncatedFile) {
  const std::string path = dir + "/model.bin";
  save_model_file(path, sample());
  const std::string bytes = read(path);
  // Caught by the size in the header, before any read past the end.
  for (size_t keep : {bytes.size() - 1, bytes.size() - 4, bytes.size() / 2, size_t(30)}) {
    write(path, bytes.substr(0, keep));
    expect_load_error(path, cat("file is truncated (", keep, " bytes, expected ", bytes.size(), ")"));
  }
  write(path, bytes.substr(0, 20));  // inside the header
  expect_load_error(path, "truncated");
  write(path, bytes + "x");
  expect_load_error(path, "expected");
  write(path, "");
  expect_load_error(path, "empty");
}

TEST_F(ModelFileTest, FlippedByteFailsTheChecksum) {
  const std::string path = dir + "/model.bin";
  save_model_file(path, sample());
  const std::string bytes = read(path);
  // A byte in a tensor, in a blob, and the stored checksum itself.
  const size_t tensor_byte = bytes.size() - 4 - 100;
  const size_t blob_byte = bytes.find("bytes");
  ASSERT_NE(blob_byte, std::string::npos);
  for (size_t at : {tensor_byte, blob_byte, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] ^= 0x10;
    write(path, bad);
    expect_load_error(path, "checksum mismatch");
  }
}

TEST_F(ModelFileTest, BadMagicAndVersion) {
  const std::string path = dir + "/model.bin";
  save_model_file(path, sample());
  const std::string bytes = read(path);
  std::string bad = bytes;
  bad[0] = 'X';
  write(path, bad);
  expect_load_error(path, "not an nmt model file (bad magic)");
  write(path, "hello world, this is a text file\n");
  expect_load_error(path, "bad magic");
  write(path, "NMT");
  expect_load_error(path, "bad magic");
  bad = bytes;
  bad[8] = 7;
  write(path, bad);
  expect_load_error(path, "format version 7 is newer than this nmt (1)");
  bad[8] = 0;
  write(path, bad);
  expect_load_error(path, "version 0");
  expect_load_error(dir + "/missing.bin", "cannot open");
  expect_load_error(dir, "not a regular file");
}

// Builds a file with a valid header and checksum around an arbitrary body, to check the
// parser's own bounds checks (what a checksum collision or a writer bug would give).
std::string forge(const std::string& body) {
  std::string out("NMTMODEL\x01\0\0\0\0\0\0\0", 16);
  uint64_t n = body.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += body;
  uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size()));
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out;
}
template <typename T>
std::string le(T x) {
  return std::string(reinterpret_cast<const char*>(&x), sizeof(T));
}

TEST_F(ModelFileTest, CorruptLengthsDoNotAllocate) {
  const std::string path = dir + "/forged.bin";
  // A tensor claiming 2^40 x 2^40 elements in a tiny section.
  std::string tens =
      le<uint64_t>(1) + le<uint64_t>(1) + "w" + le<uint32_t>(2) + le<uint64_t>(1ull << 40) + le<uint64_t>(1ull << 40);
  write(path, forge("TENS" + le<uint64_t>(tens.size()) + tens));
  expect_load_error(path, "corrupt model file");
  // A config entry whose key length is huge.
  std::string conf = le<uint64_t>(1) + le<uint64_t>(uint64_t(1) << 62) + "k" + le<uint64_t>(0);
  write(path, forge("CONF" + le<uint64_t>(conf.size()) + conf));
  expect_load_error(path, "corrupt model file");
  // A count of 2^60 entries.
  std::string many = le<uint64_t>(uint64_t(1) << 60);
  write(path, forge("BLOB" + le<uint64_t>(many.size()) + many));
  expect_load_error(path, "corrupt model file");
  // A section longer than the body.
  write(path, forge("CONF" + le<uint64_t>(1000) + le<uint64_t>(0)));
  expect_load_error(path, "corrupt model file");
  // An unknown section is skipped.
  write(path, forge("XTRA" + le<uint64_t>(3) + "abc"));
  EXPECT_TRUE(load_model_file(path).tensors.empty());
}

TEST_F(ModelFileTest, SaveReplacesAnExistingFile) {
  const std::string path = dir + "/model.bin";
  ModelFile a;
  a.config["v"] = "1";
  save_model_file(path, a);
  a.config["v"] = "2";
  save_model_file(path, a);
  EXPECT_EQ(load_model_file(path).config.at("v"), "2");
  EXPECT_EQ(files(), std::vector<std::string>{"model.bin"});
}

TEST_F(ModelFileTest, FailedSaveKeepsTheOldFile) {
  const std::string path = dir + "/model.bin";
  ModelFile old;
  old.config["v"] = "old";
  save_model_file(path, old);
  const std::string before = read(path);

  // Invalid content: nothing is written.
  ModelFile dup;
  dup.tensors.emplace_back("x", Tensor::zeros({2}));
  dup.tensors.emplace_back("x", Tensor::zeros({2}));
  EXPECT_THROW(save_model_file(path, dup), Error);

  // A write that fails half-way (the file size limit is hit): the temporary is removed
  // and the old file is untouched.
  ModelFile big;
  big.tensors.emplace_back("big", Tensor::zeros({1 << 20}));  // 4 MB
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  try {
    save_model_file(path, big);
  } catch (const InputError& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos) << e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);

  // A directory that does not exist.
  EXPECT_THROW(save_model_file(dir + "/no/such/dir/model.bin", old), InputError);

  EXPECT_EQ(read(path), before);
  EXPECT_EQ(files(), std::vector<std::string>{"model.bin"});
}

TEST_F(ModelFileTest, ParamsRoundTrip) {
  auto make = [](uint64_t seed) {
    auto ps = std::make_unique<ParamStore>();
    ps->add("emb", {10, 4}, Init::normal(1.f));
    ps->add("bias", {4}, Init::uniform(1.f));
    ps->allocate(seed);
    return ps;
  };
  auto a = make(1), b = make(2);
  ASSERT_NE(a->get("emb")->value.to_vector(), b->get("emb")->value.to_vector());
  ModelFile f;
  put_params(f, *a, "model.");
  EXPECT_THROW(put_params(f, *a, "model."), Error);  // already there
  const std::string path = dir + "/params.bin";
  save_model_file(path, f);
  get_params(load_model_file(path), *b, "model.");
  for (const std::string& n : a->names()) EXPECT_EQ(a->get(n)->value.to_vector(), b->get(n)->value.to_vector()) << n;
  EXPECT_THROW(get_params(f, *b, "other."), InputError);
}

TEST_F(ModelFileTest, GetParamsMismatchNamesParamAndShapes) {
  ParamStore ps;
  ps.add("w", {3, 4}, Init::zeros());
  ps.allocate(0);
  ModelFile f;
  f.tensors.emplace_back("w", Tensor::zeros({4, 3}));
  testing::expect_error_containing<InputError>([&] { get_params(f, ps); }, "'w'", "[4, 3]", "[3, 4]");
  ModelFile missing;
  testing::expect_error_containing<InputError>([&] { get_params(missing, ps); }, "'w'");
}

TEST_F(ModelFileTest, AdamStateRoundTrip) {
  ParamStore ps;
  Var w = ps.add("w", {5}, Init::uniform(1.f));
  ps.allocate(3);
  Adam adam(ps);
  for (int s = 0; s < 3; ++s) {
    for (int64_t i = 0; i < 5; ++i) w->grad[i] = w->value[i] * (s + 1);
    adam.step(0.01f);
  }
  ModelFile f;
  put_params(f, ps);
  put_adam_state(f, adam);
  const std::string path = dir + "/ckpt.bin";
  save_model_file(path, f);
  ModelFile g = load_model_file(path);

  ParamStore ps2;
  ps2.add("w", {5}, Init::zeros());
  ps2.allocate(0);
  Adam adam2(ps2);
  get_params(g, ps2);
  get_adam_state(g, adam2);
  EXPECT_EQ(adam2.steps(), 3);
  EXPECT_EQ(adam2.m().to_vector(), adam.m().to_vector());
  EXPECT_EQ(adam2.v().to_vector(), adam.v().to_vector());

  ParamStore other;
  other.add("w", {50}, Init::zeros());
  other.allocate(0);
  Adam adam3(other);
  EXPECT_THROW(get_adam_state(g, adam3), InputError);  // sizes differ
  g.config["adam.steps"] = "x12";
  EXPECT_THROW(get_adam_state(g, adam2), InputError);
}

}  // namespace
}  // namespace nmt
