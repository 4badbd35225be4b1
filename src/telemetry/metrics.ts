// Every metric dcrvoted exports is created here and nowhere else, so the
// names that dashboards and alert rules depend on live in one file.
// deploy/prometheus/*.yml and deploy/grafana/*.json reference these names.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CANARY_CAUSES, CANARY_STATUSES, MISS_REASONS } from '../domain.js';
import { UPGRADE_KINDS } from '../guards/findings.js';

export const METRIC_PREFIX = 'dcrvoted_';

/** Reasons a signing: local vote is signed by the wallet after all (caster.ts LocalFallback). */
export const LOCAL_SIGNING_FALLBACK_REASONS = ['ticket_not_listed', 'key_not_fetched', 'not_p2pkh', 'key_refused', 'sign_failed'] as const;

const UNLABELLED_TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricsOptions {
  version: string;
  network: string;
  /** Process metrics (CPU, memory, event loop lag) under the dcrvoted_ prefix. */
  processMetrics?: boolean;
}

// The Metrics type is what this returns: each metric is declared once, here.
export function createMetrics(opts: MetricsOptions) {
  const registry = new Registry();
  const p = METRIC_PREFIX;
  const r = [registry];
  if (opts.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: p });
    // prom-client names these gauges like counters (`…_total`), which
    // `promtool check metrics` rejects and PromQL users misread as rates.
    // Each is the sum of its per-type gauge (nodejs_active_handles{type} …),
    // so sum() over that says the same thing.
    for (const name of UNLABELLED_TOTAL_GAUGES) registry.removeSingleMetric(p + name);
  }

  const m = {
    registry,
    buildInfo: new Gauge({
      name: `${p}build_info`,
      help: 'Always 1; labels carry the dcrvoted version, Node.js version and network.',
      labelNames: ['version', 'node_version', 'network'],
      registers: r,
    }),
    walletUp: new Gauge({ name: `${p}wallet_up`, help: 'Wallet answered gRPC at the last probe (1) or not (0).', labelNames: ['wallet'], registers: r }),
    walletUnlocked: new Gauge({ name: `${p}wallet_unlocked`, help: 'Wallet is unlocked and can sign votes.', labelNames: ['wallet'], registers: r }),
    walletVotingEnabled: new Gauge({ name: `${p}wallet_voting_enabled`, help: 'Wallet process votes (started with --enablevoting).', labelNames: ['wallet'], registers: r }),
    walletSynced: new Gauge({ name: `${p}wallet_synced`, help: "Wallet is connected to dcrd and its best block is within one block of dcrd's.", labelNames: ['wallet'], registers: r }),
    walletBestBlockHeight: new Gauge({ name: `${p}wallet_best_block_height`, help: "Wallet's best block height.", labelNames: ['wallet'], registers: r }),
    dcrdConnected: new Gauge({ name: `${p}dcrd_connected`, help: "dcrvoted's websocket to dcrd is up and subscribed.", registers: r }),
    dcrdBestBlockHeight: new Gauge({ name: `${p}dcrd_best_block_height`, help: "dcrd's best block height as last notified.", registers: r }),
    lastBlockTimestampSeconds: new Gauge({ name: `${p}last_block_timestamp_seconds`, help: 'Unix time at which dcrvoted last saw a new block connected.', registers: r }),
    tickets: new Gauge({ name: `${p}tickets`, help: 'Tickets of the wallet by status (from StakeInfo).', labelNames: ['wallet', 'status'], registers: r }),
    winningTicketsTotal: new Counter({ name: `${p}winning_tickets_total`, help: 'Winning tickets of ours noticed.', labelNames: ['wallet'], registers: r }),
    votesTotal: new Counter({ name: `${p}votes_total`, help: 'Decided outcomes of winning tickets of ours (voted, missed, superseded).', labelNames: ['wallet', 'outcome'], registers: r }),
    missedVotesTotal: new Counter({ name: `${p}missed_votes_total`, help: 'Missed votes by reason.', labelNames: ['wallet', 'reason'], registers: r }),
    outcomesRevisedTotal: new Counter({ name: `${p}outcomes_revised_total`, help: 'Decided outcomes revised because a reorg disconnected the block they were decided on (to: superseded, or reopened for a new decision).', labelNames: ['wallet', 'from', 'to'], registers: r }),
    missedVotesRevisedTotal: new Counter({ name: `${p}missed_votes_revised_total`, help: 'Missed votes later withdrawn by a reorg (subtract from missed_votes_total).', labelNames: ['wallet', 'reason'], registers: r }),
    voteSeenSeconds: new Histogram({
      name: `${p}vote_seen_seconds`,
      help: "Time from the winning-ticket notification to our vote in dcrd's mempool.",
      labelNames: ['wallet'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: r,
    }),
    votesPending: new Gauge({ name: `${p}votes_pending`, help: 'Winning tickets of ours whose outcome is not yet decided.', labelNames: ['wallet'], registers: r }),
    policyInSync: new Gauge({ name: `${p}policy_in_sync`, help: "Wallet's vote choices and treasury policies match the configured policy.", labelNames: ['wallet'], registers: r }),
    policyReappliedTotal: new Counter({ name: `${p}policy_reapplied_total`, help: 'Times the policy was re-applied because the wallet had drifted from it.', labelNames: ['wallet'], registers: r }),
    undecidedAgendas: new Gauge({ name: `${p}undecided_agendas`, help: 'Agendas the wallet offers that the policy does not decide.', labelNames: ['wallet'], registers: r }),
    unlockAttemptsTotal: new Counter({ name: `${p}unlock_attempts_total`, help: 'Unlock attempts by result (ok, wrong_passphrase, error).', labelNames: ['wallet', 'result'], registers: r }),
    reconnectsTotal: new Counter({ name: `${p}reconnects_total`, help: 'Reconnections after a lost connection, by peer (dcrd or wallet:<name>).', labelNames: ['peer'], registers: r }),
    malformedNotificationsTotal: new Counter({ name: `${p}malformed_notifications_total`, help: 'Notifications from dcrd that could not be understood and were dropped.', labelNames: ['method'], registers: r }),
    ledgerRecords: new Gauge({ name: `${p}ledger_records`, help: 'Winning tickets in the ledger by outcome (pending included).', labelNames: ['outcome'], registers: r }),
    dcrdNodeConnected: new Gauge({ name: `${p}dcrd_node_connected`, help: 'Per dcrd node: websocket up and subscribed (dcrd_connected is 1 while any node is).', labelNames: ['node'], registers: r }),
    dcrdNodeHeight: new Gauge({ name: `${p}dcrd_node_height`, help: "Per dcrd node: its best block height as the sync guard last read it (getblockchaininfo blocks).", labelNames: ['node'], registers: r }),
    dcrdBlocksBehind: new Gauge({ name: `${p}dcrd_blocks_behind`, help: 'Per dcrd node: blocks below the highest height any configured node, any of their p2p peers or its own best header claims (the sync guard counts 2 or more as lagging).', labelNames: ['node'], registers: r }),
    dcrdSyncProblem: new Gauge({ name: `${p}dcrd_sync_problem`, help: 'Per dcrd node and kind (lagging, forked, not_current): 1 while the sync guard has seen that problem for longer than dcrd.syncGraceMs; dcrvoted is not ready meanwhile.', labelNames: ['node', 'kind'], registers: r }),
    dcrdForkInfo: new Gauge({ name: `${p}dcrd_fork_info`, help: 'Always 1, one series per dcrd node on a fork past the grace period: the height, its block hash, and the other node and its block at that height.', labelNames: ['node', 'height', 'hash', 'other_node', 'other_hash'], registers: r }),
    walletVotingMode: new Gauge({ name: `${p}wallet_voting_mode`, help: 'Always 1, for the wallet\'s configured votingMode (wallet, daemon or both); alerts use it to ignore lock and voting state when dcrvoted alone casts the votes.', labelNames: ['wallet', 'mode'], registers: r }),
    votesCastTotal: new Counter({ name: `${p}votes_cast_total`, help: 'Votes dcrvoted built, had signed and broadcast itself (votingMode daemon or both), by result (accepted by at least one dcrd, or rejected).', labelNames: ['wallet', 'result'], registers: r }),
    voteAcceptedSeconds: new Histogram({
      name: `${p}vote_accepted_seconds`,
      help: 'Time from the winning-ticket notification until a vote was accepted by the first dcrd, by path: daemon (cast by dcrvoted) or wallet (the wallet\'s own, seen in the mempool).',
      labelNames: ['wallet', 'path'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: r,
    }),
    voteStageSeconds: new Histogram({
      name: `${p}vote_stage_seconds`,
      help: "Each stage of a vote of ours, in seconds after the first dcrd's winning-ticket notification: notified (each other dcrd node's delay), built, signed (dcrvoted's own vote), accepted (the first dcrd to accept dcrvoted's broadcast), mempool (first seen in a dcrd mempool), next_block (the block that decided it arrived). Observed when the vote's timeline is written.",
      labelNames: ['wallet', 'stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    votesRebroadcastTotal: new Counter({ name: `${p}votes_rebroadcast_total`, help: "Votes of ours sent again to a dcrd node whose mempool lacked them before the next block (dcrd never rebroadcasts votes itself).", labelNames: ['wallet', 'node'], registers: r }),
    notificationsSentTotal: new Counter({ name: `${p}notifications_sent_total`, help: 'Notifications delivered, by configured target name (notify.targets).', labelNames: ['target'], registers: r }),
    notificationsFailedTotal: new Counter({ name: `${p}notifications_failed_total`, help: 'Notifications given up on after every retry (receiver down, refusing or too slow), by target.', labelNames: ['target'], registers: r }),
    notificationsDroppedTotal: new Counter({ name: `${p}notifications_dropped_total`, help: "Notifications dropped unsent because the target's queue was full (notify.queueSize), by target.", labelNames: ['target'], registers: r }),
    notificationQueueLength: new Gauge({ name: `${p}notification_queue_length`, help: 'Notifications waiting to be sent, by target.', labelNames: ['target'], registers: r }),
    heartbeatFailuresTotal: new Counter({ name: `${p}heartbeat_failures_total`, help: "Failed pings of the dead-man's switch (notify.heartbeatUrl).", registers: r }),
    ticketIndexTickets: new Gauge({ name: `${p}ticket_index_tickets`, help: "Tickets in dcrvoted's index of the wallet's tickets that can win (unspent: immature or live), kept from GetTickets and the wallet's transaction notifications.", labelNames: ['wallet'], registers: r }),
    ticketIndexLoaded: new Gauge({ name: `${p}ticket_index_loaded`, help: "1 while the ticket index mirrors the wallet (filled, notifications flowing); 0 while it does not, and each winner's owner is asked of the wallet with GetTicket (a slower vote).", labelNames: ['wallet'], registers: r }),
    votingKeys: new Gauge({ name: `${p}voting_keys`, help: 'Voting keys of owned tickets held in memory for signing: local (a count; the keys themselves are never exported).', labelNames: ['wallet'], registers: r }),
    localSigningFallbacksTotal: new Counter({ name: `${p}local_signing_fallbacks_total`, help: 'Votes of a signing: local wallet that the wallet had to sign instead (SignTransaction), by reason (ticket_not_listed, key_not_fetched, not_p2pkh, key_refused, sign_failed).', labelNames: ['wallet', 'reason'], registers: r }),
    voteSigningFailuresTotal: new Counter({ name: `${p}vote_signing_failures_total`, help: 'Votes dcrvoted could not cast, by reason (no_passphrase, wrong_passphrase, ticket_unknown, not_signed, build_failed, no_vote_version, wallet_error).', labelNames: ['wallet', 'reason'], registers: r }),
    upgradeNeeded: new Gauge({
      name: `${p}upgrade_needed`,
      help: 'Upgrade guard: 1 while the wallet or its dcrd needs attention before the network moves on, by kind: unknown_agenda (the network votes on an agenda the wallet\'s vote version does not know), locked_in (a rule change is locked in and activates soon), stake_version (most votes carry a newer vote version than the wallet\'s).',
      labelNames: ['wallet', 'kind'],
      registers: r,
    }),
    undecidedTSpends: new Gauge({ name: `${p}undecided_tspends`, help: 'Treasury guard: treasury spends still inside (or before) their voting window that the policy decides neither by hash nor by treasury key.', labelNames: ['wallet'], registers: r }),
    signingCanaryStatus: new Gauge({
      name: `${p}signing_canary_status`,
      help: "1 for the signing canary's last finding per wallet (ok; no_live_ticket; locked_by_design: a wallet kept locked for per-vote passphrases, signing unproven; cannot_sign), 0 for the others.",
      labelNames: ['wallet', 'status'],
      registers: r,
    }),
    signingCanaryFailuresTotal: new Counter({ name: `${p}signing_canary_failures_total`, help: 'Signing canary runs that found the wallet unable to sign a vote, by cause (wallet_locked, account_locked, missing_key, watching_only, grpc_refused, bad_signature, build_failed, wallet_will_not_vote).', labelNames: ['wallet', 'cause'], registers: r }),
    lockedVotingAccounts: new Gauge({ name: `${p}locked_voting_accounts`, help: 'Accounts holding the voting keys of live tickets that are locked on their own (own passphrase) and that dcrvoted could not unlock.', labelNames: ['wallet'], registers: r }),
    accountUnlockAttemptsTotal: new Counter({ name: `${p}account_unlock_attempts_total`, help: 'Attempts to unlock a voting account with its own passphrase (wallets[].accountPassphraseFiles), by result (ok, wrong_passphrase, error).', labelNames: ['wallet', 'result'], registers: r }),
  };
  m.buildInfo.set({ version: opts.version, node_version: process.version, network: opts.network }, 1);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Pre-creates the per-wallet series so alerts see zeros instead of absent series. */
export function initWalletSeries(m: Metrics, wallet: string, votingMode: 'wallet' | 'daemon' | 'both' = 'wallet', signing: 'wallet' | 'local' = 'wallet'): void {
  m.walletVotingMode.set({ wallet, mode: votingMode }, 1);
  if (signing === 'local') {
    m.votingKeys.set({ wallet }, 0);
    for (const reason of LOCAL_SIGNING_FALLBACK_REASONS) m.localSigningFallbacksTotal.inc({ wallet, reason }, 0);
  }
  if (votingMode !== 'wallet') for (const result of ['accepted', 'rejected']) m.votesCastTotal.inc({ wallet, result }, 0);
  for (const g of [m.walletUp, m.walletUnlocked, m.walletVotingEnabled, m.walletSynced, m.policyInSync, m.ticketIndexTickets, m.ticketIndexLoaded]) g.set({ wallet }, 0);
  m.winningTicketsTotal.inc({ wallet }, 0);
  m.votesPending.set({ wallet }, 0);
  for (const outcome of ['voted', 'missed', 'superseded']) m.votesTotal.inc({ wallet, outcome }, 0);
  for (const reason of MISS_REASONS) m.missedVotesTotal.inc({ wallet, reason }, 0);
  for (const reason of MISS_REASONS) m.missedVotesRevisedTotal.inc({ wallet, reason }, 0);
  for (const result of ['ok', 'wrong_passphrase', 'error']) m.unlockAttemptsTotal.inc({ wallet, result }, 0);
  m.policyReappliedTotal.inc({ wallet }, 0);
  m.undecidedAgendas.set({ wallet }, 0);
  for (const kind of UPGRADE_KINDS) m.upgradeNeeded.set({ wallet, kind }, 0);
  m.undecidedTSpends.set({ wallet }, 0);
  m.reconnectsTotal.inc({ peer: `wallet:${wallet}` }, 0);
  for (const status of CANARY_STATUSES) m.signingCanaryStatus.set({ wallet, status }, 0);
  for (const cause of CANARY_CAUSES) m.signingCanaryFailuresTotal.inc({ wallet, cause }, 0);
  m.lockedVotingAccounts.set({ wallet }, 0);
  for (const result of ['ok', 'wrong_passphrase', 'error']) m.accountUnlockAttemptsTotal.inc({ wallet, result }, 0);
}
