// Clang's thread-safety analysis (-Wthread-safety): which mutex guards which member, and
// which functions expect a lock held. The CI's clang build turns a violation into an error;
// other compilers see nothing. Use them through core/mutex.hpp's Mutex and locks, since
// libstdc++'s std::mutex carries no annotations for the analysis to follow.
#pragma once

#if defined(__clang__)
#define PSYCHO_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PSYCHO_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(name) PSYCHO_THREAD_ANNOTATION(capability(name))
#define SCOPED_CAPABILITY PSYCHO_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(mutex) PSYCHO_THREAD_ANNOTATION(guarded_by(mutex))
#define PT_GUARDED_BY(mutex) PSYCHO_THREAD_ANNOTATION(pt_guarded_by(mutex))
#define REQUIRES(...) PSYCHO_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PSYCHO_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) PSYCHO_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PSYCHO_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) PSYCHO_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PSYCHO_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) PSYCHO_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PSYCHO_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) PSYCHO_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define RETURN_CAPABILITY(x) PSYCHO_THREAD_ANNOTATION(lock_returned(x))
// For the rare function the analysis cannot follow (a lock handed between functions);
// say why next to each use.
#define NO_THREAD_SAFETY_ANALYSIS PSYCHO_THREAD_ANNOTATION(no_thread_safety_analysis)
