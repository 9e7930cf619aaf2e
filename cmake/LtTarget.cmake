# lt_target_defaults(target): the warnings, sanitizers and definitions every
# lienthong target shares. Target-based only: nothing here touches global flags.
function(lt_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wcast-qual -Wvla -Wno-unused-parameter)
  if(LT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L
    LT_VERSION="${PROJECT_VERSION}")
  if(LT_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address)
  endif()
  if(LT_UBSAN)
    target_compile_options(${target} PRIVATE -fsanitize=undefined -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=undefined)
  endif()
endfunction()
