/* jrecover.c - recovery orchestration at start (see jrecover.h). */
#include "journal/jrecover.h"

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "oms/oms_stage.h"
#include "ingenium/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ig_jrecover_start(struct ig_jrecovery *r, const struct ig_config *cfg, struct ig_oms *oms,
		      uint32_t epoch, char *err, size_t errlen)
{
	const struct ig_cfg_journal *jc = &cfg->journal;
	struct ig_replay_info *ri = &r->replay;
	bool live = ig_venue_is_live(cfg);
	char line[256];
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->oms = oms;
	r->epoch = epoch;
	r->recovering = jc->recover == IG_RECOVER_ON ||
			(jc->recover == IG_RECOVER_AUTO && live);
	ig_recover_account_of(cfg, live ? getenv(cfg->venue.key_id_env) : NULL, &r->account);
	if (!r->recovering) {
		/* A fresh start reads the journal only for its size (it is
		 * compacted away) and its last epoch (not to be reused). */
		rc = ig_recover_scan(jc->path, ri);
		if (rc != 0) {
			snprintf(err, errlen, "%s: cannot read (%s)", jc->path, ig_strerror(rc));
			return rc;
		}
		r->epoch = ig_recover_epoch(r->epoch, ri);
		return 0;
	}
	rc = ig_recover_replay(jc->path, oms, &r->account, ri);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot recover from the journal (%s)", jc->path,
			 rc == IG_EPARSE ? "a snapshot does not fit this build or config" : ig_strerror(rc));
		return rc;
	}
	if (ri->rep.stop != IG_JOURNAL_CLEAN) {
		ig_journal_report_format(&ri->rep, line, sizeof(line));
		ig_log_warn("journal %s: %s", jc->path, line);
	}
	if (ri->account_changed > 0) {
		/* Its books are another account's: replaying them here would
		 * reconcile one account's orders against another's. Key ids
		 * are shown by their first 4 characters only. */
		bool same_key = strcmp(ri->account_key_id, r->account.key_id) == 0;
		const char *venue = ig_venue_name_at(cfg->venue.kind);
		snprintf(err, errlen,
			 "%s: the journal was written for another venue account (%s, from seq %llu; "
			 "journal key id %.4s..., this run: %s key id %.4s...): refusing to recover; "
			 "start fresh with journal.recover: off, or use another journal.path",
			 jc->path, same_key ? "another venue or base_url" : "another API key",
			 (unsigned long long)ri->account_seq, ri->account_key_id,
			 live ? cfg->venue.base_url : venue != NULL ? venue : "venue",
			 r->account.key_id);
		return IG_ESTATE;
	}
	if (ri->config_changed > 0) {
		snprintf(err, errlen,
			 "%s: the journal was written with other strategies (renamed, reordered or "
			 "removed; appending is allowed): refusing to recover; restore the config that "
			 "wrote it",
			 jc->path);
		return IG_ESTATE;
	}
	if (ri->diverged > 0) {
		/* The books would not be the ones the venue traded against. */
		snprintf(err, errlen,
			 "%s: replay diverged from the run that wrote the journal (%llu orders or cancels "
			 "differ, the first at seq %llu): was the config changed (strategies, risk limits)? "
			 "refusing to recover; restore the config that wrote it",
			 jc->path, (unsigned long long)ri->diverged, (unsigned long long)ri->diverged_seq);
		return IG_ESTATE;
	}
	ig_log_info("journal %s: replayed %llu records (%llu inputs, %llu snapshots) in %.1f ms; "
		    "state hash %016llx",
		    jc->path, (unsigned long long)ri->rep.records, (unsigned long long)ri->applied,
		    (unsigned long long)ri->snapshots, (double)ri->elapsed_ns / 1e6,
		    (unsigned long long)ri->state_hash);
	r->epoch = ig_recover_epoch(r->epoch, ri);
	return 0;
}

uint32_t ig_jrecover_epoch(const struct ig_jrecovery *r)
{
	return r->epoch;
}

/* Bytes of every segment of the journal. */
static uint64_t journal_bytes(const struct ig_replay_info *ri)
{
	return ri->rep.bytes_good + ri->rep.bytes_dropped;
}

/* Hands the venue every order that may be at it. Returns 0 or an IG_E*
 * with err set. */
static int recover_venue(struct ig_jrecovery *r, struct ig_oms *oms, struct ig_exec *exec,
			 uint32_t ninstruments, char *err, size_t errlen)
{
	struct ig_recover_order *orders = calloc(IG_MAX_STRATEGIES * IG_OM_CAPACITY, sizeof(*orders));
	struct ig_recover rc_in;
	uint32_t n;
	int rc;

	if (orders == NULL) {
		snprintf(err, errlen, "recovery: out of memory");
		return IG_ENOMEM;
	}
	n = ig_recover_orders(oms, orders, IG_MAX_STRATEGIES * IG_OM_CAPACITY, &rc_in);
	rc_in.have_journal = r->replay.rep.records > 0;
	/* No since from the local clock: a clock ahead of the venue's would
	 * lose fills made before the crash; the venue reads from its own
	 * times (Luno: the recovered orders' creation). */
	rc_in.timeout_ms = r->cfg->journal.reconcile_timeout_ms;
	ig_log_info("recovery: %u open orders to look up at the venue; trading opens once "
		    "reconciled", n);
	rc = ig_exec_recover(exec, &rc_in, ninstruments);
	free(orders);
	if (rc != 0) {
		snprintf(err, errlen, "venue: recovery could not start (%s)", ig_strerror(rc));
		return rc;
	}
	return 0;
}

int ig_jrecover_open(struct ig_jrecovery *r, struct ig_oms *oms, struct ig_jstage *js,
		     struct ig_exec *exec, const char *const *symbols, uint32_t ninstruments,
		     uint32_t held_cap, char *err, size_t errlen)
{
	const struct ig_cfg_journal *jc = &r->cfg->journal;
	struct ig_event ev;
	bool compact = r->replay.rep.records > 0 &&
		       (!r->recovering ||
			(jc->compact_bytes > 0 && journal_bytes(&r->replay) > (uint64_t)jc->compact_bytes));
	void *snap = NULL;
	long snap_len = 0;
	int rc;

	r->symbols = symbols;
	r->ninstruments = ninstruments;
	if (compact) {
		/* The books as replayed (or, starting fresh, as built), before
		 * the run-scoped fields are reset. */
		size_t cap = ig_oms_snapshot_size(oms);
		snap = malloc(cap);
		if (snap == NULL)
			return IG_ENOMEM;
		snap_len = ig_oms_snapshot_write(oms, snap, cap);
	}
	if (r->recovering)
		ig_oms_after_replay(oms);
	else
		ig_oms_session_start(oms, false);
	rc = ig_jstage_open(js, jc, r->epoch, held_cap, NULL);
	if (rc != 0) {
		free(snap);
		snprintf(err, errlen, "%s: journal.path: cannot open the journal (%s)", jc->path,
			 ig_strerror(rc));
		return rc;
	}
	if (compact && snap_len > 0) {
		rc = ig_journal_compact(&js->j, snap, (uint32_t)snap_len, NULL);
		free(snap);
		if (rc != 0) {
			ig_jstage_close(js);
			snprintf(err, errlen, "%s: cannot compact the journal (%s)", jc->path,
				 ig_strerror(rc));
			return rc;
		}
		if (!r->recovering) {
			r->fresh_compacted = r->replay.rep.records;
			ig_log_info("journal %s: journal.recover is off for this venue: starting fresh "
				    "(%llu old records compacted away)",
				    jc->path, (unsigned long long)r->replay.rep.records);
		} else {
			ig_log_info("journal %s: compacted %llu records into a snapshot", jc->path,
				    (unsigned long long)r->replay.rep.records);
		}
	} else {
		free(snap);
	}
	js->recovery = r;
	ig_oms_set_journal(oms, true);
	/* A kill switch engaged before the crash stays engaged (the OMS
	 * stage's wanted state starts where the books are: oms_stage.h). */
	if (ig_oms_kill_switch_engaged(oms))
		ig_log_warn("recovery: the kill switch is engaged (SIGUSR2 clears it)");
	/* The run starts: its epoch and wall-clock start, as an input record
	 * (replay notes it; the OMS ignores it). */
	r->session_ns = ig_clock_real_ns();
	ig_recover_session(oms, &ev, r->epoch, r->recovering, &r->account, r->session_ns);
	ig_jstage_handle(js, &ev, NULL);
	ig_jstage_commit(js, ig_clock_mono_ns(), true, NULL);
	if (js->err != 0) {
		ig_jstage_close(js);
		snprintf(err, errlen, "%s: cannot write the journal", jc->path);
		return IG_EIO;
	}
	if (r->recovering && (rc = recover_venue(r, oms, exec, ninstruments, err, errlen)) != 0) {
		ig_jstage_close(js);
		return rc;
	}
	return 0;
}

int ig_jrecover_stats(const struct ig_jrecovery *r, json_t *root)
{
	const struct ig_replay_info *ri = &r->replay;
	const struct ig_oms *o = r->oms;
	char line[256];
	json_t *rec;

	ig_journal_report_format(&ri->rep, line, sizeof(line));
	rec = json_pack("{s:b, s:I, s:I, s:I, s:s, s:s, s:f, s:o, s:I}", "recovered", r->recovering,
			"replayed_records", (json_int_t)ri->rep.records, "replayed_inputs",
			(json_int_t)ri->applied, "snapshots", (json_int_t)ri->snapshots, "journal_tail",
			ig_journal_stop_name(ri->rep.stop), "journal_report", line, "replay_ms",
			(double)ri->elapsed_ns / 1e6, "replayed_state_hash", ig_json_hex(ri->state_hash),
			"run_epoch", (json_int_t)r->epoch);
	if (rec == NULL)
		return IG_ENOMEM;
	if (r->recovering) {
		if (ig_oms_recovery_json(o, r->symbols, r->ninstruments, rec) != 0) {
			json_decref(rec);
			return IG_ENOMEM;
		}
	} else {
		json_object_set_new(rec, "fresh_start_compacted",
				    json_integer((json_int_t)r->fresh_compacted));
	}
	return json_object_set_new(root, "recovery", rec) == 0 ? 0 : IG_ENOMEM;
}
