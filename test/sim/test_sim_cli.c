/*
 * test_sim_cli.c - `ingenium exchange-sim` as a user runs it: the binary of
 * this build variant (BUILD/ingenium, found from argv[0] =
 * BUILD/test/sim/test_sim_cli), credentials from the environment, the
 * "exchange-sim listening on 127.0.0.1:PORT" line, a real HTTP call, and
 * SIGTERM/SIGINT writing --state and exiting 0. Refusals: no credentials,
 * a non-loopback address, a bad flag. Every child is killed and waited for
 * in the teardown, even when a test fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char bin[512];

struct child {
	pid_t pid;
	int out; /* the child's stdout */
	int err; /* the child's stderr */
	char state_path[256];
};

static int setup(void **state)
{
	struct child *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->pid = -1;
	c->out = c->err = -1;
	snprintf(c->state_path, sizeof(c->state_path), "/tmp/ig_sim_cli_state_%d.json", (int)getpid());
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct child *c = *state;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	remove(c->state_path);
	free(c);
	return 0;
}

/* Starts bin with args and env (NULL-terminated), stdout/stderr piped. */
static void spawn(struct child *c, const char *const *args, const char *const *env)
{
	int out[2], err[2];
	const char *argv[32];
	int n = 0;

	argv[n++] = bin;
	argv[n++] = "exchange-sim";
	while (*args != NULL && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execve(bin, (char *const *)(uintptr_t)argv, (char *const *)(uintptr_t)env);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	c->out = out[0];
	c->err = err[0];
}

/* Reads fd until EOF or timeout; returns a static, NUL-terminated buffer. */
static const char *drain(int fd, int timeout_ms)
{
	static char buf[8192];
	size_t n = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (n + 1 < sizeof(buf) && poll(&p, 1, timeout_ms) > 0) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return buf;
}

/* Reads the first stdout line; returns the port or fails. */
static unsigned read_port(struct child *c)
{
	char line[256];
	size_t n = 0;
	struct pollfd p = { c->out, POLLIN, 0 };
	unsigned port = 0;

	while (n + 1 < sizeof(line) && poll(&p, 1, 10000) > 0) {
		if (read(c->out, line + n, 1) != 1)
			break;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (sscanf(line, "exchange-sim listening on 127.0.0.1:%u", &port) != 1 || port == 0)
		fail_msg("unexpected first line: \"%s\" (stderr: %s)", line, drain(c->err, 100));
	return port;
}

static int wait_exit(struct child *c)
{
	int st;
	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(c->pid, &st, WNOHANG);
		if (r == c->pid) {
			c->pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(10000);
	}
	fail_msg("the child did not exit within 10 s");
	return -1;
}

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
	size_t len = strlen(arg);
	size_t k = sz * n;
	(void)p;
	if (len + k < 4096) {
		memcpy((char *)arg + len, p, k);
		((char *)arg)[len + k] = '\0';
	}
	return k;
}

static long http(unsigned port, const char *path, const char *form, const char *user,
		 const char *pass, char *body)
{
	CURL *h = curl_easy_init();
	char url[256];
	long status = 0;

	body[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (form != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	if (user != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

static const char *const env_keys[] = { "LUNO_API_KEY_ID=env-key", "LUNO_API_KEY_SECRET=env-secret",
					 NULL };
static const char *const env_none[] = { "PATH=/usr/bin:/bin", NULL };

/* Closes the pipes of an exited child, so the struct can run another. */
static void reset(struct child *c)
{
	close(c->out);
	close(c->err);
	c->out = c->err = -1;
}

static void test_refuses_without_credentials(void **state)
{
	struct child *c = *state;
	const char *args[] = { "--listen", "127.0.0.1:0", NULL };
	const char *args2[] = { "--listen", "127.0.0.1:0", "--key-id", "x", NULL };

	spawn(c, args, env_none);
	assert_int_equal(wait_exit(c), 2);
	assert_non_null(strstr(drain(c->err, 1000), "LUNO_API_KEY_ID"));
	reset(c);
	spawn(c, args2, env_none);
	assert_int_equal(wait_exit(c), 2);
	assert_non_null(strstr(drain(c->err, 1000), "LUNO_API_KEY_SECRET"));
}

static void test_refuses_remote_and_bad_flags(void **state)
{
	struct child *c = *state;
	const char *remote[] = { "--listen", "0.0.0.0:0", NULL };

	spawn(c, remote, env_keys);
	assert_int_equal(wait_exit(c), 2);
	assert_non_null(strstr(drain(c->err, 1000), "loopback"));
	reset(c);
	{
		const char *bad[] = { "--fail-rate", "2", NULL };
		spawn(c, bad, env_keys);
		assert_int_equal(wait_exit(c), 2);
		reset(c);
	}
	{
		const char *bad[] = { "--no-such-flag", "1", NULL };
		spawn(c, bad, env_keys);
		assert_int_equal(wait_exit(c), 2);
		reset(c);
	}
	{
		const char *help[] = { "--help", NULL };
		spawn(c, help, env_none);
		assert_int_equal(wait_exit(c), 0);
		assert_non_null(strstr(drain(c->out, 1000), "--timeout-after-accept"));
	}
}

static void run_and_stop(struct child *c, int sig)
{
	const char *args[] = { "--listen", "127.0.0.1:0", "--state", c->state_path, "--seed", "3",
			       "--flow-ms", "5", "--balance", "XBT=0.5", "--balance", "ZAR=250000.5",
			       "--quiet", NULL };
	char body[4096];
	unsigned port;
	json_t *j;

	spawn(c, args, env_keys);
	port = read_port(c);
	assert_int_equal(http(port, "/api/1/ticker?pair=XBTZAR", NULL, NULL, NULL, body), 200);
	assert_non_null(strstr(body, "\"pair\":\"XBTZAR\""));
	assert_int_equal(http(port, "/api/1/balance", NULL, "env-key", "wrong", body), 401);
	assert_int_equal(http(port, "/api/1/postorder",
			      "pair=XBTZAR&type=BID&volume=0.01&price=900000&client_order_id=cli-1",
			      "env-key", "env-secret", body),
			 200);
	assert_non_null(strstr(body, "\"order_id\":\"BX"));
	kill(c->pid, sig);
	assert_int_equal(wait_exit(c), 0);
	j = json_load_file(c->state_path, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "initial_balances"), "ZAR")),
			    "250000.5");
	assert_int_equal(json_array_size(json_object_get(j, "orders")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "orders"), 0),
							      "client_order_id")),
			    "cli-1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "stats"), "requests")), 3);
	json_decref(j);
}

static void test_run_sigterm(void **state)
{
	run_and_stop(*state, SIGTERM);
}

static void test_run_sigint(void **state)
{
	run_and_stop(*state, SIGINT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refuses_without_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_remote_and_bad_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_sigint, setup, teardown),
	};
	char *slash;
	int rc;

	/* argv[0] = BUILD/test/sim/test_sim_cli -> BUILD/ingenium */
	(void)argc;
	snprintf(bin, sizeof(bin), "%s", argv[0]);
	for (int i = 0; i < 3; i++) {
		slash = strrchr(bin, '/');
		if (slash == NULL) {
			fprintf(stderr, "cannot find the build directory from %s\n", argv[0]);
			return 1;
		}
		*slash = '\0';
	}
	strncat(bin, "/ingenium", sizeof(bin) - strlen(bin) - 1);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
