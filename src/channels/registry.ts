import type { ChatChannel, Platform } from "./channel";

/** The enabled channels by platform; several can be on at once (WeCom + DingTalk). */
export interface ChannelRegistry {
  get(platform: string): ChatChannel | undefined;
  all(): ChatChannel[];
}

export function createChannelRegistry(channels: ChatChannel[]): ChannelRegistry {
  const byPlatform = new Map<Platform, ChatChannel>(channels.map((c) => [c.platform, c]));
  return {
    get: (platform) => byPlatform.get(platform as Platform),
    all: () => [...byPlatform.values()],
  };
}
