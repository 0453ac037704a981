import { Op } from "sequelize";
import type { Db } from "../../db/sequelize";
import type { CardCodeStore } from "./card-codes";

/**
 * card_refs as the durable record of WeCom update codes (card-codes.ts, migrations/0008-card-ref-codes.ts).
 * Rows are found by task_id (unique per app: wecom.md 5.7); every change is one conditional UPDATE, so
 * whichever dispatcher or handler gets there first wins and the others see that they did not.
 */
export function createCardCodeStore(db: Db): CardCodeStore {
  const CardRef = db.models.CardRef;
  const byTask = (taskId: string) => ({ platform: "wecom", taskId });

  return {
    async find(taskId) {
      const row = await CardRef.findOne({ where: byTask(taskId), attributes: ["responseCode", "codeIssuedAt", "codeUsedAt", "sendCodeUsedAt"] });
      if (!row) return null;
      const tap = row.responseCode && row.codeIssuedAt ? { code: row.responseCode, issuedAt: row.codeIssuedAt, usedAt: row.codeUsedAt ?? null } : null;
      return { tap, sendUsedAt: row.sendCodeUsedAt ?? null };
    },
    async record(taskId, userId, code, issuedAt) {
      const row = await CardRef.findOne({ where: byTask(taskId), attributes: ["id", "platformRef"] });
      // Each card went to one person; a code WeCom issued to anyone else cannot update their copy.
      const recipient = row?.platformRef.userid;
      if (!row || typeof recipient !== "string" || recipient.toLowerCase() !== userId.toLowerCase()) return false;
      const [changed] = await CardRef.update(
        { responseCode: code, codeIssuedAt: issuedAt, codeUsedAt: null },
        { where: { id: row.id, [Op.or]: [{ codeIssuedAt: null }, { codeIssuedAt: { [Op.lt]: issuedAt } }] } },
      );
      return changed > 0;
    },
    async spendTap(taskId, code, at) {
      const [changed] = await CardRef.update({ codeUsedAt: at }, { where: { ...byTask(taskId), responseCode: code, codeUsedAt: null } });
      return changed > 0;
    },
    async spendSend(taskId, at) {
      const [changed] = await CardRef.update({ sendCodeUsedAt: at }, { where: { ...byTask(taskId), sendCodeUsedAt: null } });
      return changed > 0;
    },
  };
}
