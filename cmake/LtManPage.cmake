# cmake -DPROGRAM=... -DSECTION=8 -DOUTPUT=.../prog.8 -P LtManPage.cmake
#
# Writes the man page of PROGRAM from PROGRAM --help-man=SECTION (the same
# option tables as --help) to OUTPUT, and OUTPUT.gz beside it (gzip -9n, as
# Debian installs man pages).
foreach(var PROGRAM SECTION OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "LtManPage.cmake: ${var} is not set")
  endif()
endforeach()
execute_process(COMMAND ${PROGRAM} --help-man=${SECTION}
  OUTPUT_FILE ${OUTPUT}
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --help-man=${SECTION} failed (${rc}): ${err}")
endif()
file(SIZE ${OUTPUT} size)
if(size LESS 1000)
  message(FATAL_ERROR "${PROGRAM} --help-man=${SECTION} wrote only ${size} bytes")
endif()
execute_process(COMMAND gzip -9nkf ${OUTPUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${OUTPUT} failed (${rc})")
endif()
