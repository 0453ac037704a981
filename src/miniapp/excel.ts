import type * as ExcelJS from "exceljs";

export type { ExcelJS };

/**
 * exceljs, loaded on the first import or export rather than at start-up: it and the zip libraries it pulls
 * in hold about 29 MB resident, a fifth of an idle instance (bench:startup's idle RSS target is 150 MB),
 * for pages an admin opens now and then. Node caches the module after the first call.
 */
export function loadExcel(): typeof ExcelJS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("exceljs") as typeof ExcelJS;
}
