# Warnings are errors for project code. Call psycho_warnings(target) on every target we own;
# third-party headers come in as SYSTEM includes and are not affected.
# (-Wnull-dereference is left out: g++ 12 reports false positives inside libstdc++ at -O2.)
function(psycho_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
    -Woverloaded-virtual -Wimplicit-fallthrough
    # clang checks the locking rules written with core/thread_annotations.hpp; the CI's
    # clang build (scripts/build clang) makes a broken rule fail the build.
    $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>)
endfunction()
