import { z } from "zod";
import { MAX_PRICE_FEN } from "../../../services/support/build-lines";

const code = z.string().trim().min(1).max(64);
const fen = z.number().int().min(0).max(MAX_PRICE_FEN);
// WeCom ids are ASCII (wecom.md conventions): a member's userid is 1–64 of [A-Za-z0-9_-@.]; an
// external_userid ("wm…"/"wo…" in practice; the prefix is not promised) is kept to 1–64 of [A-Za-z0-9_-].
const wecomUserId = z.string().trim().regex(/^[A-Za-z0-9_@.-]{1,64}$/, "must be a WeCom userid: 1–64 letters, digits or _-@.");
const wecomExternalUserId = z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a WeCom external_userid: 1–64 letters, digits, _ or -");
// DingTalk: an openConversationId ("cid…" in practice, base64-ish) and a custom robot webhook (dingtalk.md 4).
const dingtalkConversationId = z.string().trim().regex(/^[A-Za-z0-9+/=_-]{1,128}$/, "must be a DingTalk openConversationId (1–128 letters, digits or +/=_-)");
const dingtalkWebhookUrl = z
  .string()
  .trim()
  .max(512)
  .regex(/^https:\/\/[^\s]+\/robot\/send\?[^\s]*access_token=[^\s&]+/, "must be a custom robot webhook URL such as https://oapi.dingtalk.com/robot/send?access_token=…");
const dingtalkWebhookSecret = z.string().trim().regex(/^SEC[A-Za-z0-9]{8,120}$/, "must be the robot's signing secret (SEC followed by letters and digits)");
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item.transform((x) => [x]), z.array(item).min(1, "send at least one item").max(1000, "at most 1,000 items per call")]);

export const ProductBody = z
  .object({
    sku: code.regex(/^[A-Za-z0-9._-]+$/, "letters, digits, dot, dash or underscore"),
    name: z.string().trim().min(1).max(128),
    barcode: z.string().trim().regex(/^[0-9A-Za-z-]{4,64}$/, "must be 4–64 letters or digits").nullable().optional(),
    unit: z.string().trim().min(1).max(16).optional(),
    category: z.string().trim().max(64).nullable().optional(),
    listPriceFen: fen,
    floorPriceFen: fen.nullable().optional(),
    safetyStock: z.number().int().min(0).max(1_000_000_000).optional(),
    active: z.boolean().optional(),
  })
  .strict();

export const CustomerBody = z
  .object({
    code: code,
    name: z.string().trim().min(1).max(128),
    level: z.string().trim().max(16).nullable().optional(),
    creditLimitFen: fen.nullable().optional(),
    contactName: z.string().trim().max(64).nullable().optional(),
    phone: z.string().trim().max(32).nullable().optional(),
    address: z.string().trim().max(255).nullable().optional(),
    ownerUserId: z.number().int().positive().nullable().optional(),
    paymentTermsDays: z.number().int().min(0).max(365).optional(),
    chatPlatform: z.enum(["wecom", "dingtalk", "simulator", "webhook"]).nullable().optional(),
    chatTarget: z.string().max(512).nullable().optional(),
    /** Reached through add_msg_template from the owner's account (wecom.md 7.2); both or neither. */
    wecomExternalUserId: wecomExternalUserId.nullable().optional(),
    wecomOwnerUserId: wecomUserId.nullable().optional(),
    /** A DingTalk group: our robot in it, or the group's custom robot with its signing secret. */
    dingtalkConversationId: dingtalkConversationId.nullable().optional(),
    dingtalkWebhookUrl: dingtalkWebhookUrl.nullable().optional(),
    dingtalkWebhookSecret: dingtalkWebhookSecret.nullable().optional(),
    active: z.boolean().optional(),
  })
  .strict();

export const ProductsBody = oneOrMany(ProductBody);
export const CustomersBody = oneOrMany(CustomerBody);

export const ListQuery = z
  .object({
    q: z.string().max(64).optional(),
    cursor: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

export const SkuParams = z.object({ sku: code });
export const StockBody = z
  .object({
    onHand: z.number().int().min(0).max(1_000_000_000),
    safetyStock: z.number().int().min(0).max(1_000_000_000).optional(),
    reason: z.string().max(500).optional(),
  })
  .strict();
