# Run at install time (cmake/install.cmake): appends to NATTEL_RECORD each
# directory of NATTEL_DIRS, and each of its parents below NATTEL_PREFIX,
# that does not exist yet (under $DESTDIR), so that `make uninstall`
# removes those and no directory that was there before.
cmake_policy(VERSION 3.18)
set(created)
if(EXISTS "${NATTEL_RECORD}")
  file(STRINGS "${NATTEL_RECORD}" created)
endif()
foreach(dir IN LISTS NATTEL_DIRS)
  string(FIND "${dir}" "${NATTEL_PREFIX}/" at)
  while(at EQUAL 0) # below the prefix (the prefix itself is not ours)
    if(NOT EXISTS "$ENV{DESTDIR}${dir}")
      list(APPEND created "$ENV{DESTDIR}${dir}")
    endif()
    get_filename_component(dir "${dir}" DIRECTORY)
    string(FIND "${dir}" "${NATTEL_PREFIX}/" at)
  endwhile()
endforeach()
list(REMOVE_DUPLICATES created)
list(JOIN created "\n" text)
file(WRITE "${NATTEL_RECORD}" "${text}\n")
