/*
 * panic HOME: marks the Berkeley DB environment under HOME/db as needing
 * recovery (DB_PANIC_ENVIRONMENT), as a process dying inside the library
 * would, so that every process using it gets DB_RUNRECOVERY.
 */
#include <stdio.h>

#include <db.h>

int
main(int argc, char **argv)
{
	char dir[4096];
	DB_ENV *env;
	int ret;

	if (argc != 2)
		return 2;
	snprintf(dir, sizeof(dir), "%s/db", argv[1]);
	if ((ret = db_env_create(&env, 0)) != 0 ||
	    (ret = env->open(env, dir, DB_JOINENV, 0)) != 0 ||
	    (ret = env->set_flags(env, DB_PANIC_ENVIRONMENT, 1)) != 0) {
		fprintf(stderr, "panic: %s\n", db_strerror(ret));
		return 1;
	}
	return 0;
}
