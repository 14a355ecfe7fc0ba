// Package entry for `import … from "@sockwasm/sdk"`.
export * from "./assembly/index";
