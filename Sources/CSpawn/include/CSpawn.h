#ifndef CSPAWN_H
#define CSPAWN_H

#include <spawn.h>

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34): the child closes every file
/// descriptor from `from` on. Declared by glibc only under `_GNU_SOURCE`, which Swift's
/// Glibc module is not built with, hence this one-function wrapper.
int cspawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
