"""zhibu roster: the roster (.xlsx/.csv) template, import and export. Filled by the roster work."""

import typer

app = typer.Typer(help="花名册：生成模板、导入、导出（Excel/CSV，中文表头）。", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="roster")
