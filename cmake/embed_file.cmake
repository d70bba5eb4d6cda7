# Writes OUT: `const char NAME[]` holding the bytes of IN, NUL-terminated. Run by the build.
file(READ ${IN} data HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" data "${data}")
string(REGEX REPLACE "((\\\\x[0-9a-f][0-9a-f]){100})" "\\1\"\n  \"" data "${data}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN} by cmake/embed_file.cmake. Do not edit. */\nconst char ${NAME}[] =\n  \"${data}\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
