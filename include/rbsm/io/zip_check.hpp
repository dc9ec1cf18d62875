#pragma once
/// Integrity check of LibTorch archives (checkpoints, docs/reliability.md section 3).
///
/// A LibTorch archive is a zip file whose records (the config, each tensor's bytes) carry a CRC-32 in
/// the zip's central directory, but LibTorch's reader never checks it (its miniz is built with
/// MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS): a flipped byte inside a tensor loads, and samples, silently.
/// `verify_zip_checksums` recomputes the CRC-32 of every record (zlib) and compares. It needs no
/// format change, so every checkpoint rbsm ever wrote is verified, old ones included.
#include <cstdint>
#include <filesystem>
#include <string>

namespace rbsm::io {

/// Checks every record of the zip archive `file`. Throws IoError, one line:
///  - `<what> FILE is corrupted (checksum mismatch): record 'NAME' has CRC-32 0x..., the archive says 0x...`
///  - `<what> FILE is truncated or corrupt (REASON)` when the zip structure itself cannot be read.
/// Returns the number of records checked. Records stored compressed (LibTorch never does) are checked
/// for their place in the file only.
std::int64_t verify_zip_checksums(const std::filesystem::path& file, const std::string& what = "checkpoint");

}  // namespace rbsm::io
