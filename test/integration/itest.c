/* itest.c - shared helpers of the integration tests (see itest.h). */
#include "itest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingenium/fixed.h"

char it_bin[512];
char it_tmpdir[256];
const char *it_key = "itest-key";
const char *it_secret = "itest-secret";
pid_t it_run_pid = -1;
pid_t it_sim_pid = -1;
json_t *it_json[4];

void it_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

pid_t it_spawn(const char *const *argv, const char *outfile, bool append)
{
	pid_t pid;

	fflush(stdout); /* or the child repeats what is buffered */
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(outfile, append ? "a" : "w", stdout);
		if (f == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		setenv("LUNO_API_KEY_ID", it_key, 1);
		setenv("LUNO_API_KEY_SECRET", it_secret, 1);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

int it_reap(pid_t *pid, int sig, int wait_ms)
{
	int st = 0;

	if (*pid <= 0)
		return -1;
	kill(*pid, sig);
	for (int i = 0; i < wait_ms / 20; i++) {
		if (waitpid(*pid, &st, WNOHANG) == *pid) {
			*pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		it_msleep(20);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &st, 0);
	*pid = -1;
	return 128 + SIGKILL;
}

int it_print_lines(const char *path, const char *needle)
{
	char *text = it_slurp(path), *line = text;
	int n = 0;

	while (line != NULL && (line = strstr(line, needle)) != NULL) {
		char *start = line, *end;
		while (start > text && start[-1] != '\n')
			start--;
		end = strchr(line, '\n');
		printf("    %.*s\n", end != NULL ? (int)(end - start) : (int)strlen(start), start);
		line = end;
		n++;
	}
	free(text);
	return n;
}

int it_run(const char *const *argv, const char *outfile)
{
	pid_t pid = it_spawn(argv, outfile, false);
	int st = 0;

	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *it_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (buf != NULL)
		buf[fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

int it_count(const char *path, const char *needle)
{
	char *t = it_slurp(path), *p;
	int n = 0;

	for (p = t; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(t);
	return n;
}

int it_sim_port(const char *outfile)
{
	static const char mark[] = "listening on 127.0.0.1:";

	for (int i = 0; i < 200; i++) {
		char *t = it_slurp(outfile), *p;
		int port = -1;
		if (t != NULL && (p = strstr(t, mark)) != NULL)
			port = atoi(p + strlen(mark));
		free(t);
		if (port > 0)
			return port;
		it_msleep(25);
	}
	return -1;
}

int64_t it_money(json_t *o, const char *key)
{
	int64_t v = 0;
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("missing decimal field %s", key);
	assert_int_equal(ig_fixed_parse_round(s, strlen(s), &v), 0);
	return v;
}

void it_check_books(const char *label, json_t *st, json_t *strats)
{
	json_t *ib = json_object_get(st, "initial_balances"), *fb = json_object_get(st, "balances");
	json_t *trades = json_object_get(st, "trades"), *t, *s;
	int64_t d_base = it_money(fb, "XBT") - it_money(ib, "XBT");
	int64_t d_counter = it_money(fb, "ZAR") - it_money(ib, "ZAR");
	int64_t pos = 0, dcash = 0, fees = 0, fees_base = 0, sim_fees = 0, sim_fees_base = 0;
	json_int_t fills = 0, nord = 0;
	size_t i;

	json_array_foreach(trades, i, t) {
		int64_t fb_i = it_money(t, "fee_base"), q = 0;
		assert_int_equal(ig_fixed_mul(fb_i, it_money(t, "price"), &q), 0);
		sim_fees += it_money(t, "fee_counter") + q;
		sim_fees_base += fb_i;
	}
	json_array_foreach(strats, i, s) {
		pos += it_money(s, "position");
		dcash += it_money(s, "cash") - it_money(s, "capital");
		fees += it_money(s, "fees");
		fees_base += it_money(s, "fees_base");
		fills += json_integer_value(json_object_get(s, "fills"));
		nord += json_integer_value(json_object_get(s, "orders"));
		assert_int_equal(json_integer_value(json_object_get(s, "refused_fills")), 0);
	}
	printf("%s: sim trades=%zu base=%lld counter=%lld fees_base=%lld; daemon orders=%lld "
	       "fills=%lld position=%lld cash_delta=%lld fees=%lld fees_base=%lld (1e-8)\n",
	       label, json_array_size(trades), (long long)d_base, (long long)d_counter,
	       (long long)sim_fees_base, (long long)nord, (long long)fills, (long long)pos,
	       (long long)dcash, (long long)fees, (long long)fees_base);
	assert_true(json_array_size(trades) > 0);
	assert_int_equal(fills, (json_int_t)json_array_size(trades));
	assert_int_equal(pos, d_base);
	assert_int_equal(dcash, d_counter);
	assert_int_equal(fees_base, sim_fees_base);
	assert_int_equal(fees, sim_fees);
}

void it_assert_no_secret(const char *path)
{
	char *t = it_slurp(path);

	assert_non_null(t);
	if (strstr(t, it_secret) != NULL) {
		free(t);
		fail_msg("%s: the API secret appears in the output", path);
	}
	free(t);
}

int it_teardown(void **state)
{
	(void)state;
	it_reap(&it_run_pid, SIGKILL, 1000);
	it_reap(&it_sim_pid, SIGTERM, 5000);
	for (size_t i = 0; i < sizeof(it_json) / sizeof(it_json[0]); i++) {
		json_decref(it_json[i]);
		it_json[i] = NULL;
	}
	return 0;
}

int it_main(const char *argv0, const char *name, const struct CMUnitTest *tests, size_t n)
{
	char suffix[128];
	size_t len;
	int rc;

	snprintf(suffix, sizeof(suffix), "/test/integration/%s", name);
	snprintf(it_bin, sizeof(it_bin), "%s", argv0);
	len = strlen(it_bin);
	if (len > strlen(suffix) && strcmp(it_bin + len - strlen(suffix), suffix) == 0)
		it_bin[len - strlen(suffix)] = '\0';
	strncat(it_bin, "/ingenium", sizeof(it_bin) - strlen(it_bin) - 1);
	snprintf(it_tmpdir, sizeof(it_tmpdir), "/tmp/ig-%s-XXXXXX", name);
	if (mkdtemp(it_tmpdir) == NULL)
		return 1;
	rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	if (rc == 0) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", it_tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", it_tmpdir);
	} else {
		fprintf(stderr, "outputs kept in %s\n", it_tmpdir);
	}
	return rc;
}

uint16_t it_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int64_t it_sum_strategies(json_t *summary, const char *key)
{
	json_t *s = json_object_get(summary, "strategies"), *v;
	size_t i;
	int64_t n = 0;
	json_array_foreach(s, i, v)
		n += json_integer_value(json_object_get(v, key));
	return n;
}
