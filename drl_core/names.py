"""Registered names, importable without torch (configs validate against them)."""

MODEL_NAMES = ("r2d10", "r2d18", "r2d50", "r3d10", "r3d18", "r3d50", "tsm_r10", "tsm_r18", "tsm_r50")
SPATIAL_MODEL_NAMES = ("r2d10", "r2d18", "r2d50")
ALGORITHM_NAMES = ("supervised", "adversarial", "spatial_adversary", "static_inputs")
FEWSHOT_CLASSIFIERS = ("nearest_centroid", "logistic", "closer_softmax")
FEWSHOT_ITEMS = ("video", "clip")  # what one few-shot sample is: a video (its clips averaged) or each clip
JITTER_MODES = ("float", "pil")  # colour jitter arithmetic: ours in float, or the reference's PIL functions, bit for bit
TEST_SPACINGS = ("span", "segments")  # test windows: first at the row's start and last at its end, or at segment centres (the reference's)
CENTRE_OFFSETS = ("floor", "round")  # a centre crop's corner: (size - crop) // 2, or Python's round of the half (the reference's CenterCrop)
RESIZE_MODES = ("bilinear", "reference")  # a decoded frame to the short side: Pillow's bilinear, or the reference's resize_clip (nearest, long side truncated)
