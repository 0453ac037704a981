import type { Card } from "../domain/card";
import type { DirectoryRecord } from "../services/users";

export type Platform = "wecom" | "dingtalk" | "simulator";

/** A person on a platform, as the dispatcher addresses them. */
export interface ChatUser {
  platform: Platform;
  platformUserId: string;
  /** Our user id, when known. */
  userId?: number;
}

/** How a customer is reached: a platform and its target (WeCom external user, DingTalk group, webhook URL). */
export interface CustomerContact {
  platform: string;
  target: string;
  name: string;
  /** The member who sends to this contact (a WeCom external contact's owner); `target` is then its id. */
  sender?: string;
  /** A credential that goes with the target (a DingTalk custom robot's signing secret); never shown or logged. */
  secret?: string;
}

/** What a platform answered for a sent message: its id, and what it needs to update a card later. */
export interface SentRef {
  messageId: string;
  /** Platform data kept in card_refs (WeCom task_id + response_code, DingTalk outTrackId, ...). */
  cardRef?: Record<string, unknown>;
  /**
   * The id the platform's card callbacks name this card by (WeCom's task_id), kept in card_refs.task_id so
   * what a tap brings (a fresh update code) can be recorded against the card. Left out by other platforms.
   */
  taskId?: string;
}

/**
 * A person from the platform's directory, with the roles its role map gives them: what our user is
 * created from on first contact (refreshPlatformUser, as at first sign-in and in the nightly refresh).
 */
export type PlatformUser = Extract<DirectoryRecord, { found: true }>;

/** Every send carries the outbox dedupe key so a platform that can check for repeats does. */
export interface SendOptions {
  dedupeKey: string;
}

/** A token bucket: `burst` at once, then `ratePerSec`. Any window of T seconds admits at most burst + T·rate. */
export interface Pace {
  ratePerSec: number;
  burst: number;
}

/** Limits a platform puts on what it is sent, described by its adapter so the dispatcher needs no platform names. */
export interface ChannelPacing {
  /** What one person may receive; the dispatcher takes a token from `bucket(platformUserId)` before each send. */
  perRecipient?: Pace & { bucket(platformUserId: string): string };
  /**
   * The largest text message, in UTF-8 bytes. When set, plain notices queued for a person who is being paced
   * are sent as one digest within it, instead of one by one at the paced rate.
   */
  textBytes?: number;
  /**
   * Where a customer may be sent only so many messages a day (WeCom external contacts, wecom.md 7.2): the
   * largest customer notice, in UTF-8 bytes. When set, customer notices queued behind one to the same
   * capped contact go in its message as one digest within it, instead of one per day.
   */
  cappedCustomerTextBytes?: number;
}

/** One interface every chat platform implements; only the outbox dispatcher calls the sending methods. */
export interface ChatChannel {
  readonly platform: Platform;
  /** Optional: a platform without caps on what a person receives leaves it out. */
  readonly pacing?: ChannelPacing;
  sendText(to: ChatUser, text: string, opts: SendOptions): Promise<SentRef>;
  sendCard(to: ChatUser, card: Card, opts: SendOptions): Promise<SentRef>;
  /** Redraws a card already sent, for everyone who got that copy. */
  updateCard(ref: { cardRef: Record<string, unknown>; to: ChatUser }, card: Card, opts: SendOptions): Promise<void>;
  notifyCustomer(to: CustomerContact, card: Card, opts: SendOptions): Promise<SentRef>;
  /** Looks a member up in the platform's directory; throws `rejected` when the directory does not know them. */
  resolveUser(platformUserId: string): Promise<PlatformUser>;
  /** A link that opens `path` in the mini-app with the user signed in. */
  miniAppLink(user: ChatUser, path: string): string;
  /**
   * After a crash between sending and recording: was the message with this dedupe key delivered?
   * `undefined` means the platform cannot tell; the dispatcher then never re-sends blindly.
   */
  lookupSent?(dedupeKey: string): Promise<SentRef | null | undefined>;
  /**
   * For /readyz: resolves when the platform can be called now (e.g. an access token is cached or can be
   * fetched), throws naming why not. Left out by a channel with nothing to check.
   */
  ready?(): Promise<void>;
  close?(): Promise<void>;
}

/** The small set of failures the dispatcher understands; platform quirks stay inside the adapter. */
export type ChannelFailure = "retry_later" | "gone" | "rejected";

export class ChannelError extends Error {
  constructor(
    readonly failure: ChannelFailure,
    message: string,
    /** For retry_later: how long the platform asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

/**
 * Inbound traffic from any platform; `key` is unique per platform event, for de-duplication. `traceId`
 * is stamped on receipt (the callback's request id, or a fresh id for a Stream frame) and stored with
 * the event, so the bot's handling and the outbox rows it writes carry it, even after a restart.
 */
export type InboundEvent = (
  | { kind: "text"; key: string; platform: Platform; from: string; text: string }
  | {
      kind: "card_action";
      key: string;
      platform: Platform;
      from: string;
      action: string;
      values: Record<string, string>;
      /**
       * The one-shot update code the tap came with (WeCom's ResponseCode, wecom.md 5.4) for card `taskId`,
       * issued at `at` (ISO): stored with the event, so it survives until it is recorded in card_refs.
       */
      cardCode?: { taskId: string; code: string; at: string };
    }
  | { kind: "open"; key: string; platform: Platform; from: string }
) & { traceId?: string };
