import type { Locale } from "./i18n";

/**
 * The neutral card every platform renders (cards/<platform>/). Builders in ./cards fill it with words
 * already in the reader's language, money already formatted and times already in Shanghai time.
 */

export type CardKind =
  | "order_preview"
  | "approval"
  | "warehouse_pick"
  | "order_status"
  | "order_list"
  | "shipment_notice"
  | "order_confirmed_notice"
  | "help"
  | "new_order"
  | "choose"
  | "stock"
  | "notice";

export type Tone = "info" | "success" | "warning" | "danger" | "muted";

/** A tap calls back with `action` ("order.submit") and `values`; the bot routes on the action key. */
export interface CardButton {
  action: string;
  label: string;
  style: "primary" | "default" | "danger";
  values?: Record<string, string>;
}

/** A choice that calls back with `action` and `values` plus `{ [name]: chosen option value }`. */
export interface CardSelect {
  action: string;
  label: string;
  name: string;
  options: Array<{ value: string; label: string }>;
  values?: Record<string, string>;
}

export interface CardLine {
  name: string;
  sku?: string;
  qty: string;
  price?: string;
  total?: string;
  note?: string;
  flag?: Tone;
}

export interface Card {
  kind: CardKind;
  locale: Locale;
  title: string;
  subtitle?: string;
  banner?: { text: string; tone: Tone };
  fields: Array<{ label: string; value: string }>;
  lines?: CardLine[];
  /** How many lines were left off to keep the card short. */
  moreLines?: number;
  notes?: string[];
  buttons: CardButton[];
  select?: CardSelect;
  /** A mini-app path like /m/orders/12; channels make it absolute and signed. */
  link?: { label: string; path: string };
  /** Identity for updates and tests: e.g. { orderId: "12", stepId: "3" } */
  ref?: Record<string, string>;
}

export const MAX_CARD_LINES = 6;
/** WeCom and DingTalk both show three buttons comfortably; more wrap or get cut. */
export const MAX_CARD_BUTTONS = 3;
/** WeCom suggests ~10 characters per button label. */
export const MAX_BUTTON_LABEL = 10;
