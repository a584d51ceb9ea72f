/*
 * fuzz_journal.c - the journal reader (src/journal/journal.c):
 * ig_journal_verify() and ig_journal_replay() of arbitrary bytes as a
 * journal, in one segment file or split over two (PATH and PATH.1), with a
 * callback that decodes each record (ig_journal_record_event, type names)
 * and may stop the replay early; then the report is formatted.
 *
 * Input: byte 0 is a control byte (bit 0: split the rest into two segment
 * files, at the second segment header magic if there is one, else at the
 * middle; bits 1..2: index of the first segment file, 0 = PATH itself;
 * bits 3..7: stop the replay after that many records, 0 = never); the rest
 * is the file content.
 */
#include "journal/journal.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init("journal");
	return 0;
}

struct walk {
	unsigned stop_after;
	unsigned seen;
	uint64_t last_seq;
};

static int on_record(const struct ig_journal_record *rec, void *arg)
{
	struct walk *w = arg;
	struct ig_event ev;
	volatile uint8_t sink = 0;

	/* The reader promises strictly increasing sequences. */
	if (w->seen > 0 && rec->seq <= w->last_seq) {
		fprintf(stderr, "fuzz_journal: seq %llu after %llu\n",
			(unsigned long long)rec->seq, (unsigned long long)w->last_seq);
		abort();
	}
	w->last_seq = rec->seq;
	/* Touch every payload byte: the reader must hand over readable memory. */
	for (uint32_t i = 0; i < rec->len; i++)
		sink ^= ((const uint8_t *)rec->payload)[i];
	(void)sink;
	(void)ig_journal_record_event(rec, &ev);
	(void)ig_journal_type_name(rec->type);
	w->seen++;
	return w->stop_after != 0 && w->seen >= w->stop_after ? 7 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[600], path0[600], path1[600], leaf[8], line[1024];
	struct ig_journal_report rep;
	struct walk w = { 0, 0, 0 };
	bool split;
	unsigned seg;
	size_t body, half;

	if (size == 0)
		return 0;
	split = (data[0] & 1) != 0;
	seg = (data[0] >> 1) & 3u;
	w.stop_after = data[0] >> 3;
	data++;
	body = size - 1;
	half = body;
	if (split) {
		const uint8_t *m = body > 8 ? memmem(data + 8, body - 8, IG_JOURNAL_MAGIC, 8) : NULL;
		half = m != NULL ? (size_t)(m - data) : body / 2;
	}
	/* The base path names the journal even when segment 0 is absent. */
	snprintf(path, sizeof(path), "%s/j", fz_dir);
	if (seg == 0)
		snprintf(leaf, sizeof(leaf), "j");
	else
		snprintf(leaf, sizeof(leaf), "j.%u", seg);
	fz_write(leaf, data, half, path0, sizeof(path0));
	path1[0] = '\0';
	if (split) {
		snprintf(leaf, sizeof(leaf), "j.%u", seg + 1);
		fz_write(leaf, data + half, body - half, path1, sizeof(path1));
	}

	memset(&rep, 0, sizeof(rep));
	(void)ig_journal_verify(path, &rep);
	ig_journal_report_format(&rep, line, sizeof(line));
	(void)ig_journal_stop_name(rep.stop);

	memset(&rep, 0, sizeof(rep));
	(void)ig_journal_replay(path, on_record, &w, &rep);
	ig_journal_report_format(&rep, line, sizeof(line));
	ig_journal_report_format(&rep, line, 16); /* a short buffer */

	unlink(path0);
	if (path1[0] != '\0')
		unlink(path1);
	return 0;
}
