#pragma once
/// Atomic file output: everything rbsm writes goes to `<path>.tmp.<pid>` first and is renamed into
/// place only when complete, so a crash, Ctrl-C or a full disk never leaves a half-written file.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace rbsm::io {

namespace fs = std::filesystem;

/// Writes `bytes` to `path` atomically; throws IoError (naming the path and the reason) on failure.
void atomic_write(const fs::path& path, std::string_view bytes);

/// Calls `writer(tmp)` to produce the file at a temporary path, checks it exists, renames it to
/// `path`. For writers that need a path (torch::save, stb). The temporary is removed on failure.
void atomic_write_with(const fs::path& path, const std::function<void(const fs::path& tmp)>& writer);

/// Reads a whole file; throws IoError if it is missing or unreadable.
std::string read_file(const fs::path& path);

/// Creates `dir` (and parents); throws IoError if it cannot, or if it exists and is not a directory.
void ensure_directory(const fs::path& dir);

}  // namespace rbsm::io
