#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenization/corpus.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR (or /tmp), removed at the end of each test.
class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "nmt_corpus_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // gzip-compresses with zlib's own writer (a real gzip file with header and CRC).
  static std::string gzip(const std::string& bytes) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&zs, bytes.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  }
  static std::string message_of(const std::string& path) {
    try {
      read_lines(path);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "reading " << path << " did not throw InputError";
    return "";
  }

  fs::path dir_;
};

using Lines = std::vector<std::string>;

TEST(Utf8, AcceptsWellFormed) {
  for (const std::string& s :
       std::vector<std::string>{"", "plain ascii text, longer than eight bytes", "Mädchen Straße", "привет мир",
                                "日本語", "😀🚀", "\xED\x9F\xBF" /* U+D7FF */, "\xEE\x80\x80" /* U+E000 */,
                                "\xF4\x8F\xBF\xBF" /* U+10FFFF */, "\xC2\x80" /* U+0080 */, std::string("a\0b", 3)}) {
    size_t bad = 12345;
    EXPECT_TRUE(is_valid_utf8(s, &bad)) << s;
    EXPECT_EQ(bad, 12345u) << "bad_offset must be left alone for valid input";
  }
  EXPECT_TRUE(is_valid_utf8("abc", nullptr));
}

TEST(Utf8, RejectsMalformedAtTheRightOffset) {
  struct Case {
    std::string s;
    size_t offset;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"\x80", 0, "lone continuation byte"},
      {"abcdefghij\xBF", 10, "continuation byte after the ASCII fast path"},
      {"\xC0\x80", 0, "overlong NUL (C0)"},
      {"\xC1\xBF", 0, "overlong 2-byte (C1)"},
      {"ab\xE0\x80\x80", 2, "overlong 3-byte"},
      {"\xE0\x9F\xBF", 0, "overlong 3-byte, largest"},
      {"\xF0\x80\x80\x80", 0, "overlong 4-byte"},
      {"\xF0\x8F\xBF\xBF", 0, "overlong 4-byte, largest"},
      {"\xED\xA0\x80", 0, "high surrogate U+D800"},
      {"x\xED\xBF\xBF", 1, "low surrogate U+DFFF"},
      {"\xF4\x90\x80\x80", 0, "above U+10FFFF"},
      {"\xF5\x80\x80\x80", 0, "F5 lead byte"},
      {"\xFE", 0, "FE"},
      {"\xFF", 0, "FF"},
      {"abc\xC3", 3, "truncated 2-byte at the end"},
      {"\xC3"
       "A",
       0, "2-byte lead followed by ASCII"},
      {"\xE2\x82", 0, "truncated 3-byte"},
      {"\xE2\x82 x", 0, "3-byte cut by a space"},
      {"ok \xF0\x9F\x98", 3, "truncated 4-byte emoji"},
      {"ä\xF0\x9F\x98\x80\xF0\x9F", 6, "valid emoji then a truncated one"},
  };
  for (const auto& c : cases) {
    size_t bad = 999;
    EXPECT_FALSE(is_valid_utf8(c.s, &bad)) << c.why;
    EXPECT_EQ(bad, c.offset) << c.why;
    EXPECT_FALSE(is_valid_utf8(c.s, nullptr)) << c.why;
  }
}

TEST_F(CorpusTest, PlainLines) {
  const auto path = write("a.txt", "first line\nzweite Zeile äöü\n日本語\n");
  EXPECT_EQ(read_lines(path), (Lines{"first line", "zweite Zeile äöü", "日本語"}));
}

TEST_F(CorpusTest, LastLineWithoutNewline) {
  EXPECT_EQ(read_lines(write("a.txt", "a\nb")), (Lines{"a", "b"}));
  EXPECT_EQ(read_lines(write("b.txt", "only")), (Lines{"only"}));
}

TEST_F(CorpusTest, CrlfStripped) {
  EXPECT_EQ(read_lines(write("a.txt", "one\r\ntwo\r\n\r\nlast\r")), (Lines{"one", "two", "", "last"}));
  // A '\r' that does not end the line is text.
  EXPECT_EQ(read_lines(write("b.txt", "a\rb\n")), (Lines{"a\rb"}));
}

TEST_F(CorpusTest, EmptyLinesPreserved) {
  EXPECT_EQ(read_lines(write("a.txt", "\n\nx\n\ny\n\n")), (Lines{"", "", "x", "", "y", ""}));
  EXPECT_EQ(read_lines(write("empty.txt", "")), Lines{});
  EXPECT_EQ(read_lines(write("nl.txt", "\n")), Lines{""});
}

TEST_F(CorpusTest, GzipDetectedByContentNotName) {
  const std::string text = "Ein Mädchen\r\n\nläuft.\nlast";
  const Lines expected = {"Ein Mädchen", "", "läuft.", "last"};
  EXPECT_EQ(read_lines(write("a.gz", gzip(text))), expected);
  EXPECT_EQ(read_lines(write("gzip_named.txt", gzip(text))), expected);
  EXPECT_EQ(read_lines(write("plain_named.gz", text)), expected);
  EXPECT_EQ(read_lines(write("empty.gz", gzip(""))), Lines{});
}

TEST_F(CorpusTest, ConcatenatedGzipMembers) {
  const auto path = write("cat.gz", gzip("a\nb\n") + gzip("") + gzip("c\n"));
  EXPECT_EQ(read_lines(path), (Lines{"a", "b", "c"}));
}

// Many random lines (some longer than the reader's 64 KiB chunks), plain and gzip:
// lines split across buffer boundaries must come out whole.
TEST_F(CorpusTest, LongAndManyLinesPlainAndGzip) {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a", "b", " ", "ä", "ж", "語", "😀", "\r"};
  Lines lines;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    const int len = i % 1000 == 17 ? 150000 : static_cast<int>(rng() % 80);
    std::string line;
    for (int k = 0; k < len; ++k) line += alphabet[rng() % alphabet.size()];
    if (!line.empty() && line.back() == '\r') line.back() = 'z';  // would be taken as a CRLF ending
    text += line + (i % 3 ? "\n" : "\r\n");
    lines.push_back(line);
  }
  EXPECT_EQ(read_lines(write("big.txt", text)), lines);
  EXPECT_EQ(read_lines(write("big.gz", gzip(text))), lines);
}

TEST_F(CorpusTest, StreamingReaderCountsLines) {
  LineReader in(write("a.gz", gzip("x\n\ny\n")));
  EXPECT_EQ(in.line_number(), 0);
  std::string line;
  ASSERT_TRUE(in.next(line));
  EXPECT_EQ(line, "x");
  EXPECT_EQ(in.line_number(), 1);
  ASSERT_TRUE(in.next(line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(in.next(line));
  EXPECT_EQ(line, "y");
  EXPECT_EQ(in.line_number(), 3);
  EXPECT_FALSE(in.next(line));
  EXPECT_FALSE(in.next(line));  // stays at the end
  EXPECT_EQ(in.path(), (dir_ / "a.gz").string());
}

TEST_F(CorpusTest, InvalidUtf8ReportsFileLineAndColumn) {
  const std::string text = "fine\nalso fine\nLatin-1 Caf\xC3 (\n";
  const auto plain = write("bad.txt", text);
  EXPECT_NE(message_of(plain).find(plain + ":3: invalid UTF-8 (byte 0xC3 at column 12)"), std::string::npos)
      << message_of(plain);
  const auto gz = write("bad.gz", gzip(text));
  EXPECT_NE(message_of(gz).find(gz + ":3: invalid UTF-8 (byte 0xC3 at column 12)"), std::string::npos)
      << message_of(gz);
  // The lines before the bad one are delivered.
  LineReader in(plain);
  std::string line;
  EXPECT_TRUE(in.next(line));
  EXPECT_TRUE(in.next(line));
  EXPECT_THROW(in.next(line), InputError);
}

TEST_F(CorpusTest, MissingOrUnreadableFileNamesIt) {
  const std::string missing = (dir_ / "no_such_file.txt").string();
  EXPECT_THROW(LineReader{missing}, InputError);
  EXPECT_NE(message_of(missing).find(missing), std::string::npos);
  EXPECT_NE(message_of(missing).find("No such file"), std::string::npos) << message_of(missing);
  const std::string dir = dir_.string();
  EXPECT_NE(message_of(dir).find(dir), std::string::npos) << message_of(dir);  // a directory
}

TEST_F(CorpusTest, CorruptGzipThrows) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line number " + std::to_string(i) + " with some words\n";
  const std::string z = gzip(text);

  const auto truncated = write("truncated.gz", z.substr(0, z.size() - 20));
  EXPECT_NE(message_of(truncated).find(truncated + ": corrupt gzip file"), std::string::npos) << message_of(truncated);

  std::string flipped = z;
  for (size_t i = z.size() / 2; i < z.size() / 2 + 8; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
  const auto bad = write("flipped.gz", flipped);
  EXPECT_NE(message_of(bad).find(bad + ": corrupt gzip file"), std::string::npos) << message_of(bad);

  std::string bad_crc = z;
  bad_crc[z.size() - 6] = static_cast<char>(bad_crc[z.size() - 6] ^ 1);  // in the CRC-32 trailer
  const auto crc = write("crc.gz", bad_crc);
  EXPECT_NE(message_of(crc).find(crc + ": corrupt gzip file"), std::string::npos) << message_of(crc);

  const auto trailing = write("trailing.gz", z + "garbage");
  EXPECT_NE(message_of(trailing).find(trailing + ": corrupt gzip file"), std::string::npos) << message_of(trailing);
}

// "-" reads stdin, gzip or not: the test puts a file on file descriptor 0.
TEST_F(CorpusTest, DashReadsStdin) {
  const auto read_stdin_from = [](const std::string& path) {
    const int saved = ::dup(STDIN_FILENO);
    const int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
    Lines lines;
    std::string error;
    try {
      lines = read_lines("-");
    } catch (const InputError& e) {
      error = e.what();
    }
    ::dup2(saved, STDIN_FILENO);
    ::close(saved);
    return std::make_pair(lines, error);
  };
  EXPECT_EQ(read_stdin_from(write("in.gz", gzip("ä\nb\n"))).first, (Lines{"ä", "b"}));
  EXPECT_EQ(read_stdin_from(write("in.txt", "c\r\nd")).first, (Lines{"c", "d"}));
  EXPECT_NE(
      read_stdin_from(write("bad.txt", "ok\n\xFF\n")).second.find("<stdin>:2: invalid UTF-8 (byte 0xFF at column 1)"),
      std::string::npos);
}

}  // namespace
}  // namespace nmt
