import { DataTypes, QueryTypes, type QueryInterface } from "sequelize";

/**
 * WeCom card updates: each card_refs row becomes the durable record of the update codes of its
 * one recipient (wecom.md 5.4, gotcha 10), so a restart with the in-memory cache loses none.
 * - task_id: the id WeCom's click callbacks name the card by (TaskId), to find the row a tap belongs to.
 * - response_code / code_issued_at / code_used_at: the recipient's latest tap code, when WeCom issued it
 *   (our receipt of the callback) and when it was spent on an update (null: still unused).
 * - send_code_used_at: the code message/send answered stays in platform_ref; this is when it was spent.
 * Other platforms leave them null.
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addColumn("card_refs", "task_id", { type: DataTypes.STRING(128), allowNull: true });
  // WeCom does not document a length; the ones seen are well under 100 characters.
  await qi.addColumn("card_refs", "response_code", { type: DataTypes.STRING(512), allowNull: true });
  await qi.addColumn("card_refs", "code_issued_at", { type: DataTypes.DATE(3), allowNull: true });
  await qi.addColumn("card_refs", "code_used_at", { type: DataTypes.DATE(3), allowNull: true });
  await qi.addColumn("card_refs", "send_code_used_at", { type: DataTypes.DATE(3), allowNull: true });
  await qi.addIndex("card_refs", ["task_id"], { name: "card_refs_task" });

  // WeCom cards that may still be updated get their task_id from platform_ref. Their tap codes, if any,
  // are in the cache (where the release before this one kept them), which is still read first.
  const rows = await qi.sequelize.query<{ id: number; platform_ref: string }>(
    "SELECT id, platform_ref FROM card_refs WHERE platform = 'wecom' AND live = ?",
    { type: QueryTypes.SELECT, replacements: [true] },
  );
  for (const row of rows) {
    let taskId: unknown;
    try {
      taskId = (JSON.parse(row.platform_ref) as { task_id?: unknown }).task_id;
    } catch {
      continue;
    }
    if (typeof taskId !== "string" || !taskId || taskId.length > 128) continue;
    await qi.sequelize.query("UPDATE card_refs SET task_id = ? WHERE id = ?", { replacements: [taskId, row.id] });
  }
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.removeIndex("card_refs", "card_refs_task");
  for (const column of ["send_code_used_at", "code_used_at", "code_issued_at", "response_code", "task_id"]) {
    await qi.removeColumn("card_refs", column);
  }
}
