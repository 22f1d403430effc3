# Layering, checked by the build (docs/architecture.md, "Layers").
#
# psycho_forbid_headers(<target> <header>...) shadows each header, for <target>'s own sources
# only, with one that stops the compile with an #error naming the target. Boost and yaml-cpp
# live in /usr/include, so they cannot be kept out by leaving out an include path; instead a
# header that every header of the library includes is shadowed: boost/config.hpp for Boost
# (Asio, Beast), yaml-cpp/dll.h for yaml-cpp. Both are reached through the -I path even from
# inside the library (angle brackets, or quotes naming "yaml-cpp/..." from that folder).
function(psycho_forbid_headers target)
  set(dir "${CMAKE_BINARY_DIR}/forbidden-headers/${target}")
  foreach(header IN LISTS ARGN)
    file(WRITE "${dir}/${header}"
      "#error \"${target} must not include ${header}: see docs/architecture.md (Layers)\"\n")
  endforeach()
  target_include_directories(${target} BEFORE PRIVATE "${dir}")
endfunction()

# psycho_forbid_links(<target> <library>...) fails the configuration when <target> links one
# of the libraries, directly or through what it links.
function(psycho_forbid_links target)
  set(pending ${target})
  set(seen "")
  list(LENGTH pending left)
  while(left GREATER 0)
    list(POP_FRONT pending current)
    if(NOT current IN_LIST seen AND TARGET ${current})
      list(APPEND seen ${current})
      foreach(property LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
        get_target_property(libs ${current} ${property})
        if(NOT libs)  # not set: "libs-NOTFOUND"
          continue()
        endif()
        foreach(lib IN LISTS libs)
          if(lib IN_LIST ARGN)
            message(FATAL_ERROR "${target} must not link ${lib} (through ${current}): "
                                "see docs/architecture.md (Layers)")
          endif()
          list(APPEND pending ${lib})
        endforeach()
      endforeach()
    endif()
    list(LENGTH pending left)
  endwhile()
endfunction()

# psycho_core_layer(<target>): <target> is core, or built on core alone, and so uses neither
# Asio/Beast nor yaml-cpp: not in its sources (checked when they compile), not in what it
# links (checked at the end of the configuration, when every target's links are known).
function(psycho_core_layer target)
  psycho_forbid_headers(${target} boost/config.hpp yaml-cpp/dll.h)
  # A deferred call reads variables when it runs, so the target's name is spelled out now.
  cmake_language(EVAL CODE "cmake_language(DEFER DIRECTORY \"${PROJECT_SOURCE_DIR}\" CALL
    psycho_forbid_links ${target} yaml-cpp yaml-cpp::yaml-cpp Boost::headers psycho_asio)")
endfunction()
