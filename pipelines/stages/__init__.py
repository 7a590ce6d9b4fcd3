"""The study's stages: each module has ``run(ctx: StageContext) -> dict`` (see base.py)."""
