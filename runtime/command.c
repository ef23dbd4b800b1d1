#include "runtime/command.h"

#include <string.h>

/* The linker defines these for any section whose name is a C identifier. */
extern const struct hull_command __start_hull_cmds[] __attribute__((weak));
extern const struct hull_command __stop_hull_cmds[] __attribute__((weak));

const struct hull_command *hull_command_first(void)
{
	return __start_hull_cmds;
}

const struct hull_command *hull_command_end(void)
{
	return __stop_hull_cmds;
}

const struct hull_command *hull_command_find(const char *name)
{
	if (!name)
		return NULL;
	for (const struct hull_command *c = __start_hull_cmds; c < __stop_hull_cmds; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
