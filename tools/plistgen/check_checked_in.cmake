# Fails when the checked-in Entitlements.plist differs from the one generated from the device
# table; prints the diff and the command that fixes it. Arguments: GENERATED, CHECKED_IN,
# FIX_COMMAND.
if(NOT EXISTS "${GENERATED}")
  message(FATAL_ERROR "${GENERATED} was not generated; build the dext-plists target first")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${GENERATED}" "${CHECKED_IN}"
                RESULT_VARIABLE differs)
if(differs)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND ${DIFF} -u "${CHECKED_IN}" "${GENERATED}")
  endif()
  message(FATAL_ERROR "${CHECKED_IN} is stale: it no longer matches the device table.\n"
                      "Fix: ${FIX_COMMAND}   (then commit Entitlements.plist)")
endif()
message(STATUS "${CHECKED_IN} matches the device table")
