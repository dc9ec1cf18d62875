// The implementations of the system's stb_image / stb_image_write (used by image.cpp), in a translation
// unit of their own: CMakeLists.txt compiles it with -fno-sanitize=nonnull-attribute, because
// stb_image.h's stbi__getn calls memcpy(NULL, p, 0) for an empty PNG chunk (harmless, but UBSan's
// nonnull-attribute check reports it; found by fuzz_png, docs/reliability.md section 5). Our own
// code in image.cpp stays fully sanitized.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO_UNUSED
#include <stb_image_write.h>
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>
