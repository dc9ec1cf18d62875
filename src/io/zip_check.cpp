// CRC-32 check of every record of a zip archive (zip_check.hpp).
#include "rbsm/io/zip_check.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "rbsm/error.hpp"

namespace rbsm::io {
namespace {

std::uint64_t le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string hex32(std::uint64_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(v));
  return buf;
}

class Reader {
 public:
  Reader(const std::filesystem::path& file, std::string prefix) : prefix_(std::move(prefix)) {
    in_.open(file, std::ios::binary);
    if (!in_) throw IoError(prefix_ + " cannot be read");
    in_.seekg(0, std::ios::end);
    size_ = static_cast<std::uint64_t>(in_.tellg());
  }
  std::uint64_t size() const { return size_; }
  /// Reads n bytes at offset into buf; throws "truncated or corrupt (what)" if the file is shorter.
  void read(std::uint64_t offset, unsigned char* buf, std::uint64_t n, const std::string& what) {
    if (offset > size_ || n > size_ - offset) corrupt(what + " lies beyond the end of the file");
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(buf), static_cast<std::streamsize>(n));
    if (!in_) corrupt("cannot read " + what);
  }
  [[noreturn]] void corrupt(const std::string& why) const {
    throw IoError(prefix_ + " is truncated or corrupt (" + why + ")");
  }
  const std::string& prefix() const { return prefix_; }

 private:
  std::ifstream in_;
  std::uint64_t size_ = 0;
  std::string prefix_;
};

}  // namespace

std::int64_t verify_zip_checksums(const std::filesystem::path& file, const std::string& what) {
  Reader r(file, what + " " + file.string());
  // End of central directory: 22 bytes plus a comment of at most 65535, at the end of the file.
  const std::uint64_t tail = std::min<std::uint64_t>(r.size(), 22 + 65535);
  if (tail < 22) r.corrupt("not a zip archive: " + std::to_string(r.size()) + " bytes");
  std::vector<unsigned char> end(tail);
  r.read(r.size() - tail, end.data(), tail, "the end of the archive");
  std::int64_t eocd = -1;
  for (std::int64_t i = static_cast<std::int64_t>(tail) - 22; i >= 0; --i)
    if (le(&end[i], 4) == 0x06054b50 && i + 22 + le(&end[i + 20], 2) == tail) {
      eocd = i;
      break;
    }
  if (eocd < 0) r.corrupt("no zip end-of-directory record");
  std::uint64_t entries = le(&end[eocd + 10], 2), cd_size = le(&end[eocd + 12], 4), cd_offset = le(&end[eocd + 16], 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {  // zip64
    const std::uint64_t locator = r.size() - tail + static_cast<std::uint64_t>(eocd);
    if (locator < 20) r.corrupt("zip64 archive without its locator");
    unsigned char loc[20];
    r.read(locator - 20, loc, 20, "the zip64 locator");
    if (le(loc, 4) != 0x07064b50) r.corrupt("zip64 archive without its locator");
    unsigned char rec[56];
    r.read(le(loc + 8, 8), rec, 56, "the zip64 end-of-directory record");
    if (le(rec, 4) != 0x06064b50) r.corrupt("bad zip64 end-of-directory record");
    entries = le(rec + 32, 8);
    cd_size = le(rec + 40, 8);
    cd_offset = le(rec + 48, 8);
  }
  if (cd_size > r.size()) r.corrupt("the central directory is larger than the file");
  std::vector<unsigned char> cd(cd_size);
  r.read(cd_offset, cd.data(), cd_size, "the central directory");

  std::vector<unsigned char> buf(1 << 20);
  std::uint64_t pos = 0;
  std::int64_t checked = 0;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (pos + 46 > cd.size() || le(&cd[pos], 4) != 0x02014b50)
      r.corrupt("bad central directory entry " + std::to_string(e));
    const unsigned char* h = &cd[pos];
    const std::uint64_t method = le(h + 10, 2), crc = le(h + 16, 4);
    std::uint64_t comp = le(h + 20, 4), uncomp = le(h + 24, 4);
    const std::uint64_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    std::uint64_t local = le(h + 42, 4);
    if (pos + 46 + name_len + extra_len + comment_len > cd.size())
      r.corrupt("bad central directory entry " + std::to_string(e));
    const std::string name(reinterpret_cast<const char*>(h + 46), name_len);
    // zip64 extra field (id 1): the 64-bit values of those that are 0xFFFFFFFF, in this order
    for (std::uint64_t x = 0; x + 4 <= extra_len;) {
      const unsigned char* f = h + 46 + name_len + x;
      const std::uint64_t id = le(f, 2), len = le(f + 2, 2);
      if (x + 4 + len > extra_len) break;
      if (id == 1) {
        std::uint64_t k = 0;
        const auto next = [&](std::uint64_t& v) {
          if (v != 0xFFFFFFFF) return;
          if (k + 8 > len) r.corrupt("bad zip64 field of record '" + name + "'");
          v = le(f + 4 + k, 8);
          k += 8;
        };
        next(uncomp);
        next(comp);
        next(local);
      }
      x += 4 + len;
    }
    unsigned char lh[30];
    r.read(local, lh, 30, "the header of record '" + name + "'");
    if (le(lh, 4) != 0x04034b50) r.corrupt("bad local header of record '" + name + "'");
    std::uint64_t data = local + 30 + le(lh + 26, 2) + le(lh + 28, 2);
    if (data > r.size() || comp > r.size() - data) r.corrupt("record '" + name + "' lies beyond the end of the file");
    if (method == 0) {
      if (comp != uncomp) r.corrupt("stored record '" + name + "' has two sizes");
      uLong c = crc32(0L, Z_NULL, 0);
      for (std::uint64_t done = 0; done < comp;) {
        const std::uint64_t n = std::min<std::uint64_t>(buf.size(), comp - done);
        r.read(data + done, buf.data(), n, "record '" + name + "'");
        c = crc32(c, buf.data(), static_cast<uInt>(n));
        done += n;
      }
      if (static_cast<std::uint64_t>(c) != crc)
        throw IoError(r.prefix() + " is corrupted (checksum mismatch): record '" + name + "' has CRC-32 " + hex32(c) +
                      ", the archive says " + hex32(crc));
      ++checked;
    }
    pos += 46 + name_len + extra_len + comment_len;
  }
  return checked;
}

}  // namespace rbsm::io
