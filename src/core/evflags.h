/*
 * evflags.h - engine-internal header flags of struct ig_event (hdr.flags).
 *
 * The public flags a strategy may see (IG_EVF_ADOPT) are in
 * include/ingenium/event.h; these are private to the OMS, the journal
 * stage and the executor, never reach a strategy, and are not part of the
 * strategy SDK (they may change without an ABI bump). Both sets share the
 * one byte: keep the bits distinct.
 */
#ifndef IG_CORE_EVFLAGS_H
#define IG_CORE_EVFLAGS_H

#define IG_EVF_RELEASED 0x08u    /* OMS -> executor, IG_EV_ORDER: an order the OMS released
				  * from a triggered conditional (stop, take-profit, trailing
				  * stop); its stop_px is the level it triggered at. The only
				  * way a venue tells a released stop from a plain order (a
				  * plain order's stop_px never counts) */
#define IG_EVF_TAKE_PROFIT 0x10u /* OMS -> executor, IG_EV_ORDER: a released take-profit (its
				  * stop_px is a level to fill at or better), not a stop */
#define IG_EVF_J_FAILED 0x20u   /* journal -> executor: an order the journal could not make
				 * durable; the executor turns it back as a reject */
#define IG_EVF_J_OUTPUT 0x40u   /* OMS -> journal: an order/cancel for the executor, forwarded
				 * once durable; journaled, not replayed (it is regenerated) */
#define IG_EVF_J_DERIVED 0x80u  /* OMS -> journal: a consequence (state change), journaled
				 * for the record, not replayed */

/* Every engine-owned bit: the OMS clears them from a strategy's intent
 * before it goes on, so no intent can pose as a released stop. */
#define IG_EVF_ENGINE_MASK (IG_EVF_RELEASED | IG_EVF_TAKE_PROFIT | IG_EVF_J_FAILED | \
			    IG_EVF_J_OUTPUT | IG_EVF_J_DERIVED)

#endif
