import { z } from "zod";

/** A simulator person, as typed in the console: the users table's platform_user_id. */
const PlatformUserId = z.string().trim().min(1).max(128);

/** "user:<platform user id>" or "customer:<chat target>"; sim_messages.conversation is 191 wide. */
export const Conversation = z
  .string()
  .max(191)
  .regex(/^(user|customer):.+$/, { message: "must be user:<id> or customer:<target>" });

export const MessagesQuery = z.object({
  conversation: Conversation,
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type MessagesQuery = z.infer<typeof MessagesQuery>;

export const StreamQuery = z.object({ conversation: Conversation });
export type StreamQuery = z.infer<typeof StreamQuery>;

export const SendBody = z.strictObject({
  user: PlatformUserId,
  text: z.string().trim().min(1).max(2000),
});
export type SendBody = z.infer<typeof SendBody>;

export const MAX_ACTION_VALUES = 20;

export const ActionBody = z.strictObject({
  user: PlatformUserId,
  action: z.string().min(1).max(128),
  values: z
    .record(z.string().max(64), z.string().max(1000))
    .refine((v) => Object.keys(v).length <= MAX_ACTION_VALUES, { message: `at most ${MAX_ACTION_VALUES} values` })
    .default({}),
});
export type ActionBody = z.infer<typeof ActionBody>;

export const OpenBody = z.strictObject({ user: PlatformUserId });
export type OpenBody = z.infer<typeof OpenBody>;

export const OutageBody = z.strictObject({ count: z.number().int().min(0).max(100) });
export type OutageBody = z.infer<typeof OutageBody>;
