# lt_embed_text(out_c symbol input): generate out_c defining
#   const char symbol[] = "<contents of input>";
# so SQL schemas live in readable .sql files but ship inside the binaries.
function(lt_embed_text out_c symbol input)
  add_custom_command(
    OUTPUT ${out_c}
    COMMAND ${CMAKE_COMMAND} -DIN=${input} -DOUT=${out_c} -DSYM=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/LtEmbedRun.cmake
    DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/LtEmbedRun.cmake
    COMMENT "embed ${symbol}")
endfunction()
