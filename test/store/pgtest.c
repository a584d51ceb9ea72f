/*
 * pgtest.c - a throwaway PostgreSQL cluster for tests (see pgtest.h).
 */
#include "pgtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PGT_USER "postgres"

/* Drops server notices ("database ... does not exist, skipping"). */
static void pgt_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Returns true if dir holds executable initdb and pg_ctl. */
static bool pgt_bindir_ok(const char *dir)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/initdb", dir);
	if (access(p, X_OK) != 0)
		return false;
	snprintf(p, sizeof(p), "%s/pg_ctl", dir);
	return access(p, X_OK) == 0;
}

/* Finds the server binaries' directory into c->bindir. Returns 0 or -1. */
static int pgt_find_bindir(struct pgt_cluster *c)
{
	const char *env = getenv("IG_PG_BINDIR");
	FILE *f;
	glob_t g;
	long best = -1;
	const char *path;

	if (env != NULL && env[0] != '\0') {
		snprintf(c->bindir, sizeof(c->bindir), "%s", env);
		return pgt_bindir_ok(c->bindir) ? 0 : -1;
	}
	/* pg_config comes with libpq-dev; on Debian it names the server's
	 * directory even though the server is a separate package. */
	f = popen("pg_config --bindir 2>/dev/null", "r");
	if (f != NULL) {
		char line[256];

		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(c->bindir, sizeof(c->bindir), "%s", line);
		}
		pclose(f);
		if (c->bindir[0] && pgt_bindir_ok(c->bindir))
			return 0;
	}
	/* Debian: /usr/lib/postgresql/<version>/bin, the newest one */
	if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);

			if (v > best && pgt_bindir_ok(g.gl_pathv[i])) {
				best = v;
				snprintf(c->bindir, sizeof(c->bindir), "%s", g.gl_pathv[i]);
			}
		}
		globfree(&g);
		if (best >= 0)
			return 0;
	}
	path = getenv("PATH");
	while (path != NULL && *path) {
		size_t n = strcspn(path, ":");

		snprintf(c->bindir, sizeof(c->bindir), "%.*s", (int)n, path);
		if (n > 0 && pgt_bindir_ok(c->bindir))
			return 0;
		path += n;
		if (*path == ':')
			path++;
	}
	c->bindir[0] = '\0';
	return -1;
}

/* In a forked child: drops root for the postgres user (the server refuses
 * to run as root). Returns 0 or -1. */
static int pgt_become_user(void)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(PGT_USER);
	if (pw == NULL)
		return -1;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -1;
	return 0;
}

/* Runs argv (argv[0] a program in c->bindir) as the cluster's owner, its
 * output appended to c->dir/log. Returns its exit status, or -1. */
static int pgt_run(struct pgt_cluster *c, const char *const *argv)
{
	char prog[512], log[512];
	pid_t pid;
	int st;

	snprintf(prog, sizeof(prog), "%s/%s", c->bindir, argv[0]);
	snprintf(log, sizeof(log), "%s/log", c->dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (pgt_become_user() != 0) {
			dprintf(2, "pgtest: cannot switch to user %s\n", PGT_USER);
			_exit(126);
		}
		if (chdir(c->dir) != 0)
			_exit(126);
		execv(prog, (char *const *)(uintptr_t)argv);
		dprintf(2, "pgtest: exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Returns a free TCP port of 127.0.0.1 (the kernel's pick), or -1. */
static int pgt_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* nftw callback: removes one entry. Returns 0. */
static int pgt_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Stops the server (immediate) and removes c->dir. Returns nothing. */
static void pgt_cleanup(struct pgt_cluster *c)
{
	struct stat sb;
	char data[512];

	if (c->dir[0] == '\0')
		return;
	snprintf(data, sizeof(data), "%s/data/postmaster.pid", c->dir);
	if (stat(data, &sb) == 0) {
		const char *argv[] = {"pg_ctl", "-D", "data", "-m", "immediate", "-w",
		                      "stop", NULL};

		pgt_run(c, argv);
	}
	nftw(c->dir, pgt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	c->running = false;
}

/* Starts the watchdog: a process in its own session that stops the
 * server and removes the directory when the test process is gone (the
 * pipe's write end, close-on-exec, is only ever held by the test
 * process). Returns 0 or -1. */
static int pgt_start_watchdog(struct pgt_cluster *c)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char b;

		close(fds[1]);
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		for (;;) {
			ssize_t n = read(fds[0], &b, 1);

			if (n == 0 || (n < 0 && errno != EINTR))
				break;
		}
		/* A harness command (initdb, pg_ctl start) may still be
		 * running and writing into the directory: retry until it is
		 * gone (10 s at most). */
		for (int i = 0; i < 100; i++) {
			struct stat sb;

			pgt_cleanup(c);
			if (stat(c->dir, &sb) != 0)
				break;
			usleep(100 * 1000);
		}
		_exit(0);
	}
	close(fds[0]);
	c->watchdog = pid;
	c->watch_fd = fds[1];
	return 0;
}

/* Writes an error quoting the last line of c->dir/logname. Returns -1. */
static int pgt_fail(struct pgt_cluster *c, char *err, size_t errlen, const char *what,
                    const char *logname)
{
	char log[512], tail[600] = "";
	FILE *f;

	snprintf(log, sizeof(log), "%s/%s", c->dir, logname);
	f = fopen(log, "r");
	if (f != NULL) {
		char line[300];

		while (fgets(line, sizeof(line), f) != NULL)
			snprintf(tail, sizeof(tail), "%s", line);
		fclose(f);
		tail[strcspn(tail, "\n")] = '\0';
	}
	snprintf(err, errlen, "pgtest: %s failed%s%s", what, tail[0] ? ": " : "", tail);
	return -1;
}

/* pg_ctl start -w on c->port. Returns its exit status. */
static int pgt_pg_start(struct pgt_cluster *c)
{
	const char *argv[] = {"pg_ctl", "-D", "data", "-l", "server.log", "-w", "-t", "60",
	                      "start", NULL};

	return pgt_run(c, argv);
}

/* Appends the port to postgresql.conf (a later line wins). Returns 0 or -1. */
static int pgt_set_port(struct pgt_cluster *c)
{
	char conf[512];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/data/postgresql.conf", c->dir);
	f = fopen(conf, "a");
	if (f == NULL)
		return -1;
	fprintf(f, "port = %d\n", c->port);
	return fclose(f) == 0 ? 0 : -1;
}

int pgt_start(struct pgt_cluster *c, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	const char *initdb[] = {"initdb", "-D", "data", "-U", "postgres", "-A", "trust",
	                        "-E", "UTF8", "--no-locale", "--no-sync", NULL};
	char conf[512];
	FILE *f;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->watchdog = -1;
	c->watch_fd = -1;
	if (pgt_find_bindir(c) != 0) {
		snprintf(err, errlen,
		         "pgtest: PostgreSQL server binaries (initdb, pg_ctl) not found in "
		         "$IG_PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin or $PATH: "
		         "run scripts/install-deps.sh (it installs postgresql)");
		return -1;
	}
	snprintf(c->dir, sizeof(c->dir), "%s/ig-pg-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(c->dir) == NULL) {
		snprintf(err, errlen, "pgtest: mkdtemp %s: %s", c->dir, strerror(errno));
		c->dir[0] = '\0';
		return -1;
	}
	if (pgt_start_watchdog(c) != 0) {
		snprintf(err, errlen, "pgtest: watchdog: %s", strerror(errno));
		goto fail;
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(PGT_USER);

		if (pw == NULL) {
			snprintf(err, errlen, "pgtest: running as root and there is no user %s to run "
			         "the server as: run scripts/install-deps.sh (it installs postgresql)",
			         PGT_USER);
			goto fail;
		}
		if (chown(c->dir, pw->pw_uid, pw->pw_gid) != 0) {
			snprintf(err, errlen, "pgtest: chown %s: %s", c->dir, strerror(errno));
			goto fail;
		}
	}
	if (pgt_run(c, initdb) != 0) {
		pgt_fail(c, err, errlen, "initdb", "log");
		goto fail;
	}
	snprintf(conf, sizeof(conf), "%s/data/postgresql.conf", c->dir);
	f = fopen(conf, "a");
	if (f == NULL) {
		snprintf(err, errlen, "pgtest: %s: %s", conf, strerror(errno));
		goto fail;
	}
	/* loopback TCP only, the socket in our directory, no durability */
	fprintf(f, "\n# pgtest\nlisten_addresses = '127.0.0.1'\n"
	           "unix_socket_directories = '%s'\nfsync = off\n"
	           "synchronous_commit = off\nfull_page_writes = off\n"
	           "max_connections = 20\nshared_buffers = 16MB\n", c->dir);
	fclose(f);
	/* the kernel's free port may be taken before the server binds it */
	for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
		c->port = pgt_free_port();
		if (c->port < 0 || pgt_set_port(c) != 0) {
			snprintf(err, errlen, "pgtest: no free port: %s", strerror(errno));
			goto fail;
		}
		rc = pgt_pg_start(c);
	}
	if (rc != 0) {
		pgt_fail(c, err, errlen, "pg_ctl start", "server.log");
		goto fail;
	}
	c->running = true;
	return 0;
fail:
	pgt_destroy(c);
	return -1;
}

int pgt_createdb(struct pgt_cluster *c, const char *name, char *conninfo, size_t cap,
                 char *err, size_t errlen)
{
	char admin[256], sql[256];
	PGconn *conn;
	int rc = 0;

	snprintf(admin, sizeof(admin),
	         "host=127.0.0.1 port=%d dbname=postgres user=postgres connect_timeout=5",
	         c->port);
	conn = PQconnectdb(admin);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "pgtest: connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, pgt_quiet, NULL);
	for (int i = 0; i < 2 && rc == 0; i++) {
		PGresult *r;

		snprintf(sql, sizeof(sql), i == 0 ? "DROP DATABASE IF EXISTS \"%s\""
		                                  : "CREATE DATABASE \"%s\"", name);
		r = PQexec(conn, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "pgtest: %s: %s", sql, PQerrorMessage(conn));
			rc = -1;
		}
		PQclear(r);
	}
	PQfinish(conn);
	snprintf(conninfo, cap,
	         "host=127.0.0.1 port=%d dbname=%s user=postgres connect_timeout=5", c->port,
	         name);
	return rc;
}

int pgt_stop(struct pgt_cluster *c)
{
	const char *argv[] = {"pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop", NULL};

	if (!c->running)
		return 0;
	if (pgt_run(c, argv) != 0)
		return -1;
	c->running = false;
	return 0;
}

int pgt_restart(struct pgt_cluster *c, char *err, size_t errlen)
{
	if (c->running)
		return 0;
	if (pgt_pg_start(c) != 0)
		return pgt_fail(c, err, errlen, "pg_ctl start (restart)", "server.log");
	c->running = true;
	return 0;
}

void pgt_destroy(struct pgt_cluster *c)
{
	pgt_cleanup(c);
	c->dir[0] = '\0';
	if (c->watch_fd >= 0) {
		close(c->watch_fd);
		c->watch_fd = -1;
	}
	if (c->watchdog > 0) {
		while (waitpid(c->watchdog, NULL, 0) < 0 && errno == EINTR)
			;
		c->watchdog = -1;
	}
}
