"""Hand labels of efficiency claims (issue 14). Each value names the exact text it comes from;
build_labels.py turns texts into spans. Conventions: README.md beside this file."""

from __future__ import annotations

LABELS: list[dict] = []


def F(value, text, after=None, nth=0):
    """A field value and the exact abstract text stating it (Nth occurrence after ANCHOR)."""
    d = {"value": value, "text": text}
    if after is not None:
        d["after"] = after
    if nth:
        d["nth"] = nth
    return d


def C(technique, subkind=None, **fields):
    return {"technique": technique, "subkind": subkind, "fields": fields}


def L(pid, *claims, note=""):
    LABELS.append({"id": pid, "claims": list(claims), "note": note})


def S(factor=None, metric="unspecified", upto=False, range=None, **extra):
    """A speed-up value: factor (x), metric, up-to, range; extra keys such as percent_reduction."""
    return {"factor": factor, "metric": metric, "upto": upto, "range": range, **extra}


# ---------------------------------------------------------------- batch 0 (candidates 0-19)
L("2411.17705", note="Negative. 'BCI-IV-2b' is a dataset name, not a model size; 'less number of "
  "parameters' and 'memory consumption are also improved' carry no number.")
L("2411.17712",
  C("other", None,
    hardware=F("Raspberry Pi 5", "Raspberry Pi 5"),
    model=F(["Yi", "Phi", "Llama3"], "Yi, Phi, and Llama3")),
  note="Absolute figures ('5 to 12 tokens per second', 'less than 50% CPU and RAM usage') are not "
  "speed-ups or reductions: no field. Hardware and models of the deployment claim are recorded; "
  "several models named in one phrase make one list value.")
L("2411.17713",
  C("quantization", None,
    model=F("Llama Guard 3-1B-INT4", "Llama Guard 3-1B-INT4", after="We demonstrate"),
    model_size=F("1B", "1B", after="We demonstrate"),
    precision_bits=F("INT4", "INT4", after="We demonstrate"),
    hardware=F("Android mobile CPU", "Android mobile CPU")),
  C("quantization", None,
    model=F("Llama Guard 3-1B-INT4", "Llama Guard 3-1B-INT4", after="Notably"),
    model_size=F("1B", "1B", after="Notably"),
    precision_bits=F("INT4", "INT4", after="Notably"),
    size_reduction=F({"factor": 7, "qualifier": "approximately"}, "approximately 7 times"),
    baseline=F("Llama Guard 3-1B", "Llama Guard 3-1B", after="larger counterpart")),
  note="Throughput 'at least 30 tokens per second' and TTFT '2.5 seconds or less' are absolute, not "
  "speed-ups: not recorded. '(440MB)' is the resulting size, not a saving: not recorded. "
  "Quantization sub-kind (PTQ/QAT) is not stated. The baseline 'Llama Guard 3-1B' is the "
  "unquantized model, so its '1B' is not a second model_size.")
L("2411.17719", note="Negative: '9.5K' and '650 pairs' are dataset sizes.")
L("2411.17720",
  C("other", None,
    speedup=F(S(2.75, upto=True), "up to 2.75x"),
    baseline=F("FLAT", "FLAT")),
  C("other", None,
    speedup=F(S(1.76, upto=True), "up to 1.76x"),
    hardware=F("edge neural processing unit", "edge neural processing unit"),
    baseline=F("FLAT", "FLAT", after="Further experiments")),
  note="'54% reduction in energy consumption' has no field (energy). The first speed-up is in "
  "simulation, so it has no hardware. 'speedup' names no metric: unspecified.")
L("2411.17732",
  C("other", None,
    accuracy_change=F({"delta": -8, "unit": "%", "metric": "accuracy", "qualifier": "just"}, "8%")),
  note="'reduces power cycles by up to 60%' has no field (energy/power). The accuracy loss that goes "
  "with it is recorded; whether 8% is points or relative is not stated, so unit '%'.")
L("2411.17741",
  C("other", None,
    speedup=F(S(None, metric="TTFT", percent_reduction=80.7, percentile="P99"), "80.7%")),
  C("other", None,
    speedup=F(S(None, metric="TTFT", percent_reduction=48.1, percentile="P50"), "48.1%")),
  C("other", None,
    speedup=F(S(1.5, metric="throughput"), "1.5x")),
  note="'reduces P99 and P50 TTFT latency by 80.7% and 48.1%, respectively': two values paired by "
  "'respectively', one claim each. Latency reductions given in % are speedup.percent_reduction "
  "(factor null, never converted). 'state-of-the-art baselines' is not a named baseline. "
  "Adapter caching is not KV caching: technique other.")
L("2411.17747",
  C("other", None,
    speedup=F(S(None, metric="latency", upto=True, percent_reduction=65), "up to 65%"),
    baseline=F("PGA without unfolding", "PGA without unfolding")),
  note="'runtime and computational complexity' reduced by up to 65%: runtime is latency. "
  "'33.5% higher communications sum rate' and '2.5 dB lower beampattern error' are task results "
  "against other baselines, not the quality side of an efficiency claim: not recorded.")
L("2411.17773",
  C("other", "token-reduction",
    speedup=F(S(None, metric="latency", percent_reduction=27, qualifier="over"), "over 27\\%"),
    accuracy_change=F({"retained": 98.1, "unit": "%", "metric": "performance"}, "98.1%")),
  note="LaTeX percent '27\\%' kept as written in the span. 'maintaining 98.1% of the original "
  "performance' is a retained fraction, recorded as accuracy_change.retained (not turned into "
  "a delta). Visual-token reduction is not weight pruning: technique other, subkind token-reduction.")
L("2411.17781", note="Negative: 'reduces localization error by 15.92%' and 'by up to 30.89%' are "
  "accuracy results, not efficiency.")
L("2411.17787",
  C("other", None,
    speedup=F(S(1.7), "1.7x"),
    memory_reduction=F({"percent": 50, "qualifier": "around"}, "around 50%"),
    accuracy_change=F({"delta": 0.03, "from": 1.95, "to": 1.98, "metric": "FID"},
                      "from 1.95 to 1.98")),
  C("other", None,
    speedup=F(S(2.9), "2.9x"),
    hardware=F("NVIDIA 4090", "NVIDIA 4090")),
  note="'256x256' is a resolution, not a factor. '41 images/s' is absolute throughput and "
  "'FID of 2.27' an absolute score: not recorded. 'acceleration ratio' names no metric.")
L("2411.17793", note="Negative: accuracy up by 6.2%; 'reduction in development effort' has no number.")
L("2411.17826", note="Negative: '10 times as many issues', 'variances 15 and 6 times narrower' are "
  "sample-efficiency/statistics results, not speed-ups.")
L("2411.17833", note="Negative for the fields: 'reduces communication up to 95%' (federated learning "
  "communication) has no field; it is not memory or speed.")
L("2411.17835",
  C("other", None,
    precision_bits=F("BF16", "bfloat16")),
  note="Borderline: bfloat16 is a stated training/inference precision, recorded as a format "
  "(normalized BF16). 'Aranizer-PBE-86k', '13.7k pairs', '1.1 billion tokens' are not claims.")
L("2411.17847",
  C("quantization", None,
    baseline=F(["A100", "RTX3090"], "A100 and RTX3090 GPUs")),
  note="Hard case: A100 and RTX3090 are the baselines the in-memory design is compared with, not the "
  "hardware it runs on. 'three orders of magnitude improvement in the energy-delay product' has no "
  "field (and is not a number with a unit). Integer-only softmax gives no bit-width.")
L("2411.17853", note="Negative: '40 times less observational data' is data efficiency, not a field; "
  "'4.1\\leq z', '85%' accuracy, KeV masses are not claims.")
L("2411.17927", note="Negative: '350M to 16.1B parameters' are model scales in a scaling study, with "
  "no efficiency claim; model sizes are recorded only as context of an efficiency claim.")
L("2411.17933", note="Negative: success rate and manual-effort reduction, not efficiency of a model.")
L("2411.17945", note="Negative: 'MARVEL-40M+' is a dataset (40 million annotations), not a 40M model; "
  "'within 15s' is absolute.")

# ---------------------------------------------------------------- batch 1 (candidates 20-39)
L("2411.17957",
  C("other", None,
    speedup=F(S(250000, metric="latency"), "250,000x")),
  note="'cutting immunization time from days to milliseconds - achieving a 250,000x speedup': "
  "immunization time is per-image latency. Thousands separator in the factor.")
L("2411.17961", note="Negative (borderline): 'more than 10x improvement in convergence' is not a "
  "wall-clock or throughput speed-up (never inferred); '47\\% improvement in SVM classification "
  "accuracy' is a task result, not the cost side of an efficiency claim.")
L("2411.17966",
  C("other", None,
    speedup=F(S(22, metric="latency"), "22x"),
    model=F("BERT", "BERT"),
    hardware=F("Versal VCK190", "Versal VCK190")),
  C("other", None,
    speedup=F(S(3.2, metric="throughput"), "3.2x"),
    model=F("BERT", "BERT", after="throughput improvements"),
    hardware=F("Versal VCK190", "Versal VCK190")),
  C("other", None,
    speedup=F(S(2.4, metric="throughput"), "2.4x"),
    model=F("ViT", "VIT"),
    hardware=F("Versal VCK190", "Versal VCK190")),
  C("other", None,
    speedup=F(S(2.5, metric="throughput"), "2.5x"),
    model=F("NCF", "NCF"),
    hardware=F("Versal VCK190", "Versal VCK190")),
  C("other", None,
    speedup=F(S(2.8, metric="throughput"), "2.8x"),
    model=F("MLP", "MLP", after="throughput improvements"),
    hardware=F("Versal VCK190", "Versal VCK190")),
  C("other", None,
    precision_bits=F("FP32", "FP32"),
    baseline=F("T4 GPU", "T4 GPU")),
  C("other", None,
    precision_bits=F("FP32", "FP32", after="Compared to the A100"),
    baseline=F("A100 GPU", "A100 GPU")),
  note="Four throughput factors paired with four models by 'respectively'. 'compared to the state of "
  "the art' names no baseline. '18% of the memory bandwidth' is bandwidth, not memory: not "
  "recorded. '2.1x/4.5x better operating/dynamic energy efficiency' has no field (energy), but its "
  "precision (FP32) and baseline (A100 GPU, not the design's hardware) are recorded. "
  "'7nm' is a process node.")
L("2411.17984",
  C("other", None,
    memory_reduction=F({"percent": 84}, "84%"),
    speedup=F(S(2.7, metric="throughput"), "2.7 times"),
    baseline=F("attention-based remote sensing foundation models",
               "attention-based remote sensing foundation models")),
  note="'decreases FLOPs by 24%' has no field (FLOPs are compute, not speed). One sentence, one "
  "baseline: one claim with memory and speed. 'O(N^{1.5})', '4 tasks and 10 datasets' are not claims.")
L("2411.17993", note="Negative: 'Gemma2-9B' and its accuracy gain from 26.35% to 56.75% are a "
  "reasoning result, not an efficiency claim.")
L("2411.18009",
  C("other", None,
    hardware=F("edge devices", "edge devices")),
  note="Borderline: deployment on 'edge devices' is recorded as hardware with no number. "
  "'30m/s' is the UAV's cruise speed, not a speed-up.")
L("2411.18010",
  C("other", "prompt-compression",
    speedup=F(S(None, metric="latency", percent_reduction=17, qualifier="about"), "about 17%")),
  note="'reduces response time by about 17%': response time is latency.")
L("2411.18042", note="Negative: '1.9M frames' is a dataset size.")
L("2411.18054", note="Negative (hard): 'reduce bias by ~5x, RMS error by ~1.5x, outlier rates by "
  "1.3x' are accuracy factors, not speed-ups.")
L("2411.18055",
  C("quantization", "mixed-precision",
    precision_bits=F({"bits": 2, "qualifier": "as low as"}, "2 bits", after="Our experiments"),
    accuracy_change=F({"delta": -1, "unit": "%", "metric": "accuracy", "qualifier": "under"},
                      "under 1%")),
  C("quantization", "mixed-precision",
    speedup=F(S(300, upto=True), "up to 300x"),
    baseline=F("genetic algorithm-based methods", "genetic algorithm-based methods")),
  note="'28.67% energy reduction' has no field. Bit-width given without saying weights or "
  "activations: {'bits': 2}. '300x faster' is the speed of the substitution search, not of "
  "inference; 'faster' names no metric, so unspecified. Background 'down to 2' is not a claim.")
L("2411.18061",
  C("other", None,
    size_reduction=F({"percent": 75.5, "of": "parameters"}, "75.5%"),
    accuracy_change=F({"delta": 1.71, "unit": "%", "metric": "performance",
                       "dataset": "MPIIFaceGaze"}, "1.71%"),
    baseline=F("SUGE", "SUGE")),
  C("other", None,
    accuracy_change=F({"delta": 2.75, "unit": "%", "metric": "performance", "dataset": "Gaze360"},
                      "2.75%"),
    baseline=F("SUGE", "SUGE")),
  note="Parameter-count reduction is size_reduction. '86.88%' FLOPs reduction has no field. Two "
  "accuracy values paired to datasets by 'respectively'.")
L("2411.18064",
  C("other", None,
    size_reduction=F({"percent": 87.1, "of": "parameters"}, "87.1%"),
    baseline=F("GazeCaps", "GazeCaps", after="compared with GazeCaps")),
  C("other", None,
    speedup=F(S(None, metric="training", percent_reduction=25, of="iterations"), "25%"),
    baseline=F("GazeTR", "GazeTR")),
  C("other", None,
    speedup=F(S(None, metric="training", percent_reduction=37.5, of="iterations"), "37.5%"),
    baseline=F("GazeTR", "GazeTR")),
  note="'87.1% and 79.1% reduction in parameters and FLOPs, respectively': only the parameter one has "
  "a field. Borderline: '25% and 37.5% fewer iterations of training' recorded as training "
  "speed-up in iterations (of='iterations'), not time. Angle errors in degrees are absolute.")
L("2411.18065",
  C("quantization", "mixed-precision",
    precision_bits=F("FP6", "FP6", after="GPT-3 in"),
    model=F("GPT-3", "GPT-3"),
    baseline=F("Tensor Core-like architecture", "Tensor Core-like architecture")),
  C("quantization", "mixed-precision",
    precision_bits=F("FP6", "FP6", after="GPT-3 in"),
    model=F("GPT-3", "GPT-3"),
    baseline=F("BitFusion", "BitFusion")),
  note="Hard case: '1.66x and 1.62x higher performance per area' is not a speed-up (per area): not "
  "recorded, but the precision, model and baselines of that statement are. FP6/FP5/FP8 and "
  "'NVIDIA H100 Tensor Core' in the background are not this paper's claims. '3.9x higher "
  "performance/area' vs a bit-serial architecture has no recordable field.")
L("2411.18073",
  C("other", None,
    speedup=F(S(50, metric="throughput"), "$50$ times")),
  note="'increase the throughput of POI verification by $50$ times': factor in TeX math. "
  "'$405$ million iterations', '$800$ ... mappers', '3.5-year' are not claims.")
L("2411.18077",
  C("kv-cache", "kv-quantization",
    precision_bits=F({"kv": 2}, "2-bit"),
    memory_reduction=F({"percent": 86, "of": "KV cache"}, "86%"),
    accuracy_change=F({"retained": 98.5, "unit": "%", "metric": "accuracy", "qualifier": "over"},
                      "over 98.5%")),
  note="'86% KV cache compression ratio' read as an 86% reduction of KV-cache memory. 'compatible "
  "with FlashAttention' is not a baseline.")
L("2411.18090", note="Negative (hard): '4K' is a cryogenic temperature, not a size; latencies in ns "
  "are absolute; thresholds are accuracy.")
L("2411.18148",
  C("other", None,
    speedup=F(S(2.25, range=[1.7, 2.25]), "1.7 to 2.25$\\times$"),
    hardware=F("FPGA", "FPGAs", after="This paper introduces")),
  note="Range '1.7 to 2.25x': factor is the upper end, range [lo, hi]. '1.2x and 2.87x more power "
  "efficient than the NVIDIA K80 GPU and the i7-8700K CPU' has no field (power). '8700K' is a CPU "
  "model, not a size. 'some state-of-the-art FPGA-based accelerators' names no baseline. 'fully "
  "quantized' gives no bit-width.")
L("2411.18164", note="Negative: mAP 90.7%/90.8% and inference times of 11 and 14 ms are absolute.")
L("2411.18177", note="Negative: '26.95% relative reduction in speaker identification ability' is not "
  "efficiency.")
L("2411.18217", note="Negative (borderline): 'update only 1-5% of the total model parameters' is the "
  "trainable fraction of parameter-efficient fine-tuning, not a size reduction.")

# ---------------------------------------------------------------- batch 2 (candidates 40-59)
L("2411.18235",
  C("other", None,
    speedup=F(S(5, qualifier="more than"), "more than 5X")),
  note="'verification for our model is more than 5X faster': capital X; 'faster' names no time "
  "quantity, so metric unspecified. 'the baseline' is not named. '16X larger' region-of-attraction "
  "is not efficiency.")
L("2411.18254", note="Negative: 'up to 54% loss reduction' is a modelling-error result.")
L("2411.18263",
  C("other", "distillation",
    speedup=F(S(40), "40 times"),
    baseline=F("SeeSR", "SeeSR")),
  note="'the fastest inference speed (e.g. 40 times faster than SeeSR)': 'inference speed' does not "
  "say latency or throughput, so unspecified.")
L("2411.18270", note="Negative (hard): '9x9 black grid' is a grid size, not a factor; IoU/GIoU "
  "increases are accuracy.")
L("2411.18280", note="Negative: attack success rate reduced by up to 98%; '90% clean data accuracy' "
  "is absolute.")
L("2411.18286", note="Negative: forecasting errors reduced by up to 9.6%.")
L("2411.18305", note="Negative (hard): '9% lower total costs' are plant operating costs, not compute; "
  "the other percentages are control results.")
L("2411.18309", note="Negative: 'CTRG-Chest-548K' is a dataset name.")
L("2411.18335", note="Negative: '40K frames' is a dataset size.")
L("2411.18343",
  C("other", None,
    speedup=F(S(10, qualifier="at least"), "at least 10 times")),
  note="'runs at least 10 times faster than the baselines which contain concept information': the "
  "baselines are not named.")
L("2411.18363", note="Negative: 'Rexverse-2M' is a dataset; '43.9 recall rate' is absolute.")
L("2411.18368", note="Negative: relative WER reductions of up to 5% are accuracy.")
L("2411.18383", note="Negative (hard): 'nuclear energy accounts for only approximately 6% of "
  "electricity production' is not an energy saving.")
L("2411.18388", note="Negative (hard): '1x1 convolution', '1xnxn kernels' are kernel shapes, not factors.")
L("2411.18424",
  C("kv-cache", None,
    speedup=F(S(11.2, metric="latency", range=[1.4, 11.2]), "1.4-11.2x"),
    baseline=F("vLLM", "vLLM", after="state-of-the-art LLM serving system")),
  note="Range written with a hyphen: factor is the upper end, range [1.4, 11.2]. The metric is 'tail "
  "TTFT and TBT' together, both latencies, so metric latency (not TTFT alone). Context switching "
  "of KV-cache memory: technique kv-cache, sub-kind not one of the listed ones (null).")
L("2411.18462",
  C("other", "speculative-decoding",
    speedup=F(S(None, metric="latency", upto=True, percent_speedup=20), "up to 20\\%")),
  C("other", "speculative-decoding",
    speedup=F(S(None, percent_speedup=60), "60\\%")),
  note="'up to 20% walltime speedup' is a speed-up given in percent: speedup.percent_speedup (not "
  "turned into 1.2x, and not a time reduction). Walltime is latency. The second '60% speedup on "
  "MT-Bench' names no metric, and is read as a separate phrase not governed by 'up to' (upto "
  "false; borderline, compare 2411.02452). '8K tokens' is a generation length, not a model size. 'baseline SD "
  "methods' are not named.")
L("2411.18478", note="Negative: 'Qwen2.5-7B-Instruct' with MATH accuracy 79.6% is a reasoning "
  "result, not an efficiency claim.")
L("2411.18507", note="Negative (hard): 'Inference times of less than 1.5 ms are significantly faster "
  "than the average grasp closure time (16.65 ms)' compares absolute times with a physical "
  "process, not two systems: no speed-up recorded.")
L("2411.18513", note="Negative (borderline): 'YOLO nano for edge devices' names a target class of "
  "hardware, but nothing is run or measured on it; hardware is recorded only where the method is "
  "run, deployed or measured.")
L("2411.18530", note="Negative: 'Llama 3.2 1B' fine-tuned with LoRA ('efficient fine-tuning') in a "
  "study of self-identity: no efficiency claim.")

# ---------------------------------------------------------------- batch 3 (candidates 60-79)
L("2411.18553",
  C("other", "token-reduction",
    accuracy_change=F({"delta": -2, "unit": "%", "metric": "task performance",
                       "qualifier": "less than"}, "less than 2%"),
    model=F("XLM-R", "XLM-R")),
  C("other", "token-reduction",
    model=F("Mistral-7B", "Mistral-7B"),
    model_size=F("7B", "7B")),
  note="Token-sequence reductions ('>20%', 'up to 40% sequence reduction') are not memory, size or "
  "speed: no field; the accuracy cost and the models of these claims are recorded. "
  "'one million token vocabulary' is not a claim.")
L("2411.18578",
  C("pruning", "structured",
    sparsity=F({"percent": 33.3, "qualifier": "more than", "of": "filters",
                "as_written": "a third"}, "more than a third"),
    accuracy_change=F({"delta": -0.32, "unit": "%", "metric": "test accuracy"}, "0.32%"),
    model=F("VGG16", "VGG16")),
  note="Hard case: the pruned fraction is written in words ('more than a third' of the filters); "
  "recorded as sparsity 33.3% of filters with as_written. The accuracy drop says '%' without "
  "points, so unit '%'.")
L("2310.11083", note="Negative: accuracy up to 23.7% and 8.4% lower standard deviation are not "
  "efficiency.")
L("2311.08562", note="Negative (hard): 'Llama-2-70B' and 'over threefold' capability gap are an "
  "evaluation result, not an efficiency claim.")
L("2401.04791",
  C("other", None,
    speedup=F(S(46, upto=True), "up to 46x")),
  C("other", None,
    memory_reduction=F({"remaining_percent": 0.5, "qualifier": "less than", "of": "map size"},
                       "less than 0.5%")),
  note="'localizes ... up to 46x faster than other feature-based approaches': the baseline is a "
  "class, not named; 'faster' names no metric. Borderline: 'a map size less than 0.5% the size of "
  "the most compact other maps' is a storage footprint, recorded as memory_reduction with "
  "remaining_percent (the share left, not turned into a reduction).")
L("2401.08895",
  C("other", None,
    speedup=F(S(10.65, upto=True, range=[1.87, 10.65]), "up to 1.87x to 10.65x")),
  note="'improves performance by up to 1.87x to 10.65x' (an 'up to' range across eight pipelines): "
  "factor is the upper end, range [1.87, 10.65], upto true. 'performance' names no metric. "
  "'state-of-the-art input data systems' are not named.")
L("2403.14494", note="Negative: accuracy improvements (1.9%, 7%, 8.57%) 'with no additional "
  "training costs' are not efficiency numbers.")
L("2404.03653", note="Negative: '20K text prompts' is a data size.")
L("2405.11616", note="Negative (hard): 'reducing computation complexity by 12x times' is a compute "
  "(FLOPs-like) reduction, no field; '512*512' is a resolution.")
L("2405.18428",
  C("other", None,
    speedup=F(S(2.5), "$2.5\\times$"),
    memory_reduction=F({"percent": 75.7, "of": "GPU memory"}, "$75.7\\%$"),
    model=F("DiG-S/2", "DiG-S/2"),
    baseline=F("DiT-S/2", "DiT-S/2")),
  C("other", None,
    speedup=F(S(4.2), "$4.2\\times$"),
    model=F("DiG-XL/2", "DiG-XL/2"),
    baseline=F("Mamba-based model", "Mamba-based model")),
  C("other", None,
    speedup=F(S(1.8), "$1.8\\times$"),
    model=F("DiG-XL/2", "DiG-XL/2"),
    baseline=F("DiT with FlashAttention-2", "DiT with FlashAttention-2")),
  note="Factors in TeX ('$2.5\\times$', '$75.7\\%$') kept as written in spans. Resolutions ('$1792$', "
  "'$1024$', '$2048$', '$256 \\times 256$') are not factors. 'FlashAttention-2' is part of the "
  "baseline 'DiT with FlashAttention-2', not the method.")
L("2405.18720", note="Negative (hard): 'improvement on the energy resolution' is a physics "
  "resolution, not an energy saving.")
L("2406.03095", note="Negative: '49K', '46K' bounding boxes are dataset sizes.")
L("2406.03923",
  C("other", None,
    memory_reduction=F({"percent": 50, "of": "GPU memory"}, "50%"),
    speedup=F(S(1.8, metric="training"), "1.8 times")),
  note="'speeds up training 1.8 times': metric training.")
L("2407.05784",
  C("other", None,
    speedup=F(S(5.29), "$5.29\\times$"),
    model=F("Llama3.1-405B", "Llama3.1-405B"),
    model_size=F("405B", "405B"),
    baseline=F("tensor parallelism in Megatron", "tensor parallelism in Megatron")),
  note="'$5.29\\times$ performance improvement' on an LLM-training chiplet system: 'performance' "
  "names no metric, so unspecified (not inferred as training). '$3.46\\times$ energy reduction' "
  "has no field.")
L("2407.09646", note="Negative for the fields: '88.5% fewer tokens than attention-based methods' is a "
  "token count, no field; 'PA-MPVPE of 5.3mm' is accuracy.")
L("2409.15637", note="Negative: '7B CodeLlama' is fine-tuned for agents; 'only 3% the cost of human "
  "demonstrations' is data-collection cost, not compute.")
L("2409.19702", note="Negative (borderline): 'faster training (1.3 hours) and rendering (60 frames "
  "per second) compared to a prior method' gives absolute figures, no factor: nothing recorded.")
L("2409.19884", note="Negative: accuracy 86.2% and a 31.0% relative error reduction are accuracy.")
L("2410.09188", note="Negative (hard): '16x3 3D integrated chiplets' is an arrangement, '2.5D' a "
  "packaging term; 'from days to mere seconds' has no factor.")
L("2410.11112",
  C("other", None,
    hardware=F("FPGA", "FPGA")),
  C("other", None,
    hardware=F("low-power microcontroller", "low-power microcontroller")),
  note="Hardware the models are evaluated on, with no numbers ('superior latency, throughput, energy "
  "efficiency ... compared to state-of-the-art solutions'). 'ultra-low-cost chips' is projected, "
  "not measured: not recorded.")

# ---------------------------------------------------------------- batch 4 (candidates 80-92)
L("2410.14735", note="Negative: 'LLAMA3-8B-INSTRUCT' in a skill-acquisition result; 'much more "
  "parameters' of GPT-3.5 has no number.")
L("2410.15115", note="Negative: '1.5B and 7B LLMs', 'Qwen2.5-Math-7B-Instruct' in an RL-reward study: "
  "no efficiency claim.")
L("2410.19147", note="Negative: '5-fold cross-validation' is not a factor; AUC/F1 are accuracy.")
L("2410.20100", note="Negative (hard): '3$\\times$ data efficiency' is data efficiency, no field; error "
  "reductions are accuracy.")
L("2410.24049", note="Negative: 'LlaMA 3.1 (8B & 405B)', 'Mistral 7B' in a bias study: no efficiency "
  "claim.")
L("2411.02452",
  C("other", None,
    speedup=F(S(None, metric="latency", upto=True, percent_reduction=65), "up to 65%"),
    accuracy_change=F({"delta": 49, "unit": "%", "metric": "answering accuracy", "upto": True,
                       "condition": "AWGN channels"}, "up to 49%"),
    baseline=F("traditional bit-oriented transmission", "traditional bit-oriented transmission")),
  C("other", None,
    accuracy_change=F({"delta": 59, "unit": "%", "metric": "answering accuracy", "upto": True,
                       "condition": "Rayleigh channels"}, "59%"),
    baseline=F("traditional bit-oriented transmission", "traditional bit-oriented transmission")),
  note="'improves answering accuracy by up to 49% under AWGN channels and 59% under Rayleigh channels "
  "while reducing total latency by up to 65%': the accuracy gains are the quality side of the same "
  "statement, one claim per channel; the 'up to' of 49% also governs 59%.")
L("2411.06208", note="Negative: '120K' and '1K' are data sizes; improvements are accuracy.")
L("2411.07976", note="Negative: false-negative/positive rates 'reduced by 49% and 59%' are "
  "diagnostic accuracy; 'healthcare costs' are not compute.")
L("2411.11361", note="Negative: 'scale the model up to 2.0B' with a better RMSE is a scaling result, "
  "not an efficiency claim.")
L("2411.12762", note="Negative: 'Llama-3.1-70B' fine-tuned in a jailbreak study.")
L("2411.15100",
  C("other", "constrained-decoding",
    speedup=F(S(100, upto=True), "up to 100x")),
  note="'up to 100x speedup over existing solutions': the baseline is not named; speedup names no "
  "metric.")
L("2411.15421", note="Negative: '375K' video-text pairs is a dataset size.")
L("2411.17621", note="Negative: '10-fold cross-validation', '98% of accuracy'.")

# ---------------- batch 5: other ML feeds (API/RSS 2026, stat 2024, OAI 2016)
L("2604.26951",
  C("other", "distillation",
    model_size=F("0.6B", "0.6B"),
    accuracy_change=F({"delta": 1.53, "unit": "points", "metric": "average over eight benchmarks"},
                      "1.53 points")),
  note="Distilling '8B dense and 16B MoE teachers into a 0.6B student': the claim is about the 0.6B "
  "student; teacher sizes have no field (a teacher is neither the model nor a named baseline). "
  "'outperforms the baseline by an average of 1.53 points': unit points. HumanEval 48.78 vs 32.3 "
  "are absolute scores.")
L("2604.26904", note="Negative: '13.5K' tasks and '200 instances' are dataset sizes.")
L("2604.26881",
  C("other", None,
    model=F("Qwen1.5-moe-2.7B", "Qwen1.5-moe-2.7B"),
    model_size=F("2.7B", "2.7B"),
    baseline=F("full-model baseline", "full-model baseline")),
  note="'uses less than one third of the resources' does not say memory or compute: no field. The "
  "model and baseline of that claim are recorded. 'edge-oriented FaaS platform' is software, not "
  "hardware.")
L("2604.26866", note="Negative: 'Llama 3.1 8B, Gemma 2 9B and Mistral 7B v03' are fine-tuned in a "
  "hallucination study: no efficiency claim.")
L("2604.26857",
  C("other", "distillation",
    size_reduction=F({"factor": 3.9}, "3.9x"),
    model=F("YOLOv8-S", "YOLOv8-S"),
    model_size=F("11.2M", "11.2M"),
    baseline=F("YOLOv8-L", "YOLOv8-L")),
  C("quantization", "PTQ",
    precision_bits=F("INT8", "INT8", after="The teacher suffers"),
    accuracy_change=F({"delta": -23, "unit": "%", "metric": "mAP"}, "-23%")),
  C("quantization", "PTQ",
    precision_bits=F("INT8", "INT8", after="The teacher suffers"),
    accuracy_change=F({"delta": -5.6, "unit": "%", "metric": "mAP"}, "-5.6%")),
  C("quantization", "PTQ",
    precision_bits=F("INT8", "INT8", after="At INT8"),
    size_reduction=F({"factor": 3.9}, "3.9x", after="At INT8"),
    accuracy_change=F({"delta": 0.03, "from": 0.718, "to": 0.748, "metric": "precision"},
                      "0.748 vs. 0.718"),
    baseline=F("FP32", "FP32", after="At INT8")),
  note="Four claims: the 3.9x distillation compression (student YOLOv8-S, 11.2M parameters, against "
  "the 43.7M YOLOv8-L teacher); the teacher's -23% mAP and the student's -5.6% mAP under INT8 PTQ "
  "(the second claim names no model, 'the teacher', so no model field); and 'At INT8, the KD "
  "student exceeds the teacher's FP32 precision (0.748 vs. 0.718) in a model 3.9x smaller' with "
  "FP32 as the baseline precision. Here 'precision' is the detection metric, not bits: a hard "
  "case. '70K training images', '14.5% gain', 'false alarms by 44%' are not efficiency. 'edge "
  "hardware' is the target, not measured on.")
L("2604.26837",
  C("kv-cache", "offloading",
    speedup=F(S(5.66, metric="throughput", range=[1.66, 5.66]), "1.66-5.66x"),
    baseline=F("vLLM", "vLLM", after="SPIN delivers")),
  C("kv-cache", "offloading",
    speedup=F(S(9, metric="TTFT", range=[7, 9]), "7-9x"),
    baseline=F("vLLM", "vLLM", after="lower TTFT than")),
  C("kv-cache", "offloading",
    speedup=F(S(None, metric="latency", upto=True, percent_reduction=58, detail="TPOT"),
              "up to 58%"),
    baseline=F("original sparse-attention implementations",
               "original sparse-attention implementations")),
  note="Three speed-ups in one sentence, one claim each. '7-9x lower TTFT' is a speed-up of TTFT "
  "(factor 9, range [7, 9]). TPOT (time per output token) is a latency. Sparse attention with "
  "hierarchical KV storage: technique kv-cache, subkind offloading (the paper is also "
  "sparse-attention).")
L("2609.28442", note="Negative: '16 language models ranging from 1B to 8B parameters' in an "
  "interpretability study; 'Spearman correlations reaching 0.86'.")
L("2208.07243", note="Negative (hard): 'faster $O(1/t)$ and linear convergence rates' is a "
  "convergence rate, not a measured speed-up.")
L("1604.03168",
  C("quantization", None,
    precision_bits=F({"bits": 8, "format": "fixed point"}, "8-bit"),
    model=F(["CaffeNet", "SqueezeNet"], "CaffeNet and SqueezeNet"),
    accuracy_change=F({"delta": -1, "unit": "%", "metric": "error tolerance",
                       "qualifier": "maximum"}, "1%")),
  note="Borderline: 'Given a maximum error tolerance of 1%' is a bound set in advance, recorded as "
  "the accuracy change allowed. 'in mobile devices' is the motivation, not hardware run on.")
L("1606.03238", note="Negative: 'misclassification rates smaller than 0.15% with fewer than five "
  "walking cycles' is accuracy.")
L("1606.04487",
  C("other", None,
    speedup=F(S(5.5, metric="throughput", qualifier="at least"), "at least 5.5x"),
    hardware=F("CPUs", "CPUs", after="state-of-the-art systems on")),
  C("other", None,
    speedup=F(S(12, range=[1.9, 12]), "1.9x to 12x")),
  note="'throughput can be improved by at least 5.5x over state-of-the-art systems on CPUs'; 'runs "
  "1.9x to 12x faster than the fastest state-of-the-art systems' names no metric (the paper is "
  "about training time, but that is not stated in the sentence, so unspecified).")

# ---------------------------------------------------------------- batch 6: seeded negatives (b)
NEG = "Negative (seeded sample of ML abstracts with numbers but no efficiency context). "
L("2411.14446", note=NEG + "Regret bound O(T^{2/3}) only.")
L("2411.18229", note=NEG + "'Metric3D' is a method name.")
L("2411.18019", note=NEG + "'30 well-known GitHub repositories', '300 entries' are dataset sizes.")
L("2411.18133", note=NEG + "'2D', '3D' only.")
L("2411.18472", note=NEG + "'up to a 10% increase in accuracy' is accuracy alone.")
L("2404.18897", note=NEG + "Lens counts and accuracy percents ('about $10-20$ percent').")
L("2411.18179", note=NEG + "'26.3% relative improvement', '28.0% success rate increase' are task results.")
L("2411.17738", note=NEG + "'10 benchmark test functions'; 'convergence speed' has no number.")
L("2411.17861", note=NEG + "Title says 'Accelerating' but the abstract has only a performance-gap bound.")
L("2411.17735", note=NEG + "'3D scene memory' is not a memory saving.")
L("2411.03321", note=NEG + "Years (2016, 2020).")
L("2403.16871", note=NEG + "'F1TENTH' is a platform name.")
L("2604.22038", note=NEG + "'11 vision-language models' is a count.")
L("2411.18068", note=NEG + "'3D', 'SMPLx' only.")
L("2411.17866", note=NEG + "'GPT-2' pre-training with no size or speed number; O(1/sqrt(T)) bound.")
L("2306.06721", note=NEG + "Citation years (2020, 2016).")
L("2311.17434", note=NEG + "Hard case: 'increase in group-wise sparsity, e.g., $50.9\\%$ on CIFAR-10' "
  "is the sparsity of an adversarial perturbation, not of a model; 'significantly faster "
  "computation times' has no number.")
L("2411.18290", note=NEG + "Dice and distance-error improvements are accuracy.")
L("2410.12361", note=NEG + "'6,790 events' dataset size; F1 66.47% absolute.")
L("2405.00693", note=NEG + "'more than 250 papers' and list numbering.")
L("1902.05605", note=NEG + "Hard case: 'UTD ratio to 20' / 'UTD ratio of 1' are update-to-data "
  "ratios; 'substantially reduces the computational cost' has no number.")
L("2411.18520", note=NEG + "F1 improvements of up to 10.78\\% and 12.01\\% are accuracy.")
L("2411.18115", note=NEG + "Only digits in a URL/name.")
L("2211.13157", note=NEG + "'96% classification, 2.3% MAPE' are accuracy.")
L("2411.18602", note=NEG + "F1/Dice improvements with confidence intervals are accuracy.")
L("2406.12315", note=NEG + "Hard case: a structural-pruning benchmark ('16 existing pruning methods') "
  "with no efficiency number.")
L("2402.15105", note=NEG + "'5-month', 'top 10,000 popular apps', 'nearly 90\\% system prompts'.")
L("2411.17734", note=NEG + "'4-element patch array', '2 GHz', '360{\\deg}' are hardware specs of an "
  "antenna, not efficiency.")
L("2411.17181", note=NEG + "ROUGE gains of 43.2% are accuracy; '250 articles' dataset size.")
L("2411.17721", note=NEG + "'14 subjects', '7 classes', 'below 0.001%' difference.")

# ---------------------------------------------------------------- batch 7: outside ML (explicit speed-up / bit words)
L("2411.18026",
  C(None, None,
    speedup=F(S(28900, metric="latency", qualifier="approximately"), "approximately 28,900 times")),
  note="Outside ML. 'the processing time per vector from the second vector onward was approximately "
  "28,900 times faster than that for the first vector': a within-method comparison, no named "
  "baseline. 'strong scaling efficiency of 70\\%' has no field. Technique null outside ML.")
L("2411.18059", note="Outside ML, negative (hard): 'grows much faster than its predator' is biology.")
L("2411.18341",
  C(None, None,
    speedup=F(S(1000, upto=True, as_written="three orders of magnitude"),
              "up to three orders of magnitude"),
    baseline=F("MATLAB implementation", "MATLAB implementation")),
  note="Outside ML. Hard case: the factor is in words ('three orders of magnitude' = 1000, "
  "as_written kept). 'energy savings of up to 99.8%' has no field. 'entry-class to high-end ... "
  "GPUs and CPUs' is too broad to be a hardware value.")
L("2411.18347",
  C(None, None,
    speedup=F(S(26.2, range=[2.5, 26.2]), "2.5 to 26.2 times")),
  note="Outside ML. 'Its verification speed is 2.5 to 26.2 times faster than existing methods': "
  "'verification speed' is not latency/throughput-specific, so unspecified; 'existing methods' "
  "not named. 'from 15 to 53' binaries is not efficiency.")
L("2411.18417", note="Outside ML, negative (hard): 'reaches steady state faster than' is physics.")
L("2406.14233",
  C(None, None,
    precision_bits=F({"bits": 2}, "2-bit"),
    baseline=F({"bits": 4}, "4-bit decoding")),
  C(None, None,
    speedup=F(S(None, upto=True, percent_reduction=35, of="iterations"), "up to 35 %")),
  note="Outside ML (LDPC decoding). Hard case: 'quantization' and '2-bit'/'4-bit' here are message "
  "quantization in a channel decoder, not model quantization, hence technique null. 'double the "
  "area efficiency' has no field. 'reducing the average iteration count by up to 35 %' (space "
  "before %) recorded as a speed-up in iterations. '0.4 dB', '0.2 dB' are error-correction gains. "
  "'5G' is not a number with a unit.")
L("2406.17995", note="Outside ML, negative: 'reduce the number of hardware decoders ... by up to "
  "10X' is a hardware count, no field.")
L("2403.16421",
  C(None, None,
    speedup=F(S(8.70, statistic="average"), "8.70 times"),
    hardware=F("Digilent Arty-100T FPGA", "Digilent Arty-100T FPGA"),
    baseline=F("GNU Scientific Library", "GNU Scientific Library")),
  C(None, None,
    speedup=F(S(8.68, statistic="median"), "8.68 times"),
    hardware=F("Digilent Arty-100T FPGA", "Digilent Arty-100T FPGA"),
    baseline=F("GNU Scientific Library", "GNU Scientific Library")),
  note="Outside ML. Average and median speed-ups are two values, one claim each. '90.0 % of their "
  "execution time' is a profile, not a saving; 'Wasserstein distance of 1.48 times' is a quality "
  "ratio, not a speed-up.")
L("1604.08515", note="Outside ML, negative (hard): 'no faster than O(Ra^{1/2})' is an asymptotic "
  "bound on heat flux.")

# ---------------- batch 8: number words ('twice', 'orders of magnitude', '86m parameters')
L("2411.17731", note="Negative: Arduino and Raspberry Pi upload sensor data; no model runs on them "
  "with an efficiency figure.")
L("2411.17786",
  C("other", None,
    size_reduction=F({"factor": 10, "as_written": "an order of magnitude", "of": "extra parameters"},
                     "an order of magnitude")),
  note="Hard case: the factor is in words ('an order of magnitude fewer extra parameters' = 10x "
  "fewer adapter parameters). 'existing models' are not named.")
L("2411.17838", note="Negative (hard): 'orders of magnitude improvement in run time' gives no number "
  "(plural 'orders', unquantified): nothing recorded.")
L("2411.18121", note="Negative (hard): 'speeds up training and evaluation times by several orders of "
  "magnitude' is unquantified: nothing recorded.")
L("2411.18172",
  C("other", None,
    speedup=F(S(None, metric="training", remaining_percent=50, as_written="half the original time"),
              "half")),
  note="'bring down the training time to half the original time': the share left (50%) is recorded "
  "as remaining_percent, not turned into a factor. 'equally valuable as two-thirds of the data set' "
  "is data efficiency, no field.")
L("2411.18376",
  C("pruning", None,
    model=F("ViT/B-16", "ViT/B-16"),
    model_size=F("86M", "86m")),
  C("pruning", None,
    model=F("ViT/L-16", "ViT/L-16"),
    model_size=F("304M", "304m")),
  note="Hard case: sizes with a lowercase 'm' and paired by 'respectively'. One-shot post-training "
  "pruning; whether structured or unstructured is not said (subkind null). No efficiency number.")
L("2411.18432", note="Negative: 'Ubiquitous mobile devices' is background.")
L("2411.18562", note="Negative (hard): 'over twice the average success rate (59.2% vs. 29.5%)' is a "
  "task result.")
L("2411.18597",
  C("other", None,
    speedup=F(S(4, metric="throughput", as_written="four times"), "four times")),
  note="'captures full-frame depth at rates of a thousand frames per second, four times faster than "
  "the previous state of the art': a rate, so throughput; factor in words. 'three orders of "
  "magnitude faster than the event camera's full-frame bandwidth' and 'an order of magnitude faster "
  "than the theoretical full-frame limit' compare a component with a device limit, not a method "
  "with a baseline: not recorded (borderline).")
L("2403.07657", note="Negative: 'runs on GPU and TPU accelerators' is software support, no claim.")
L("2411.07806", note="Negative: 'edge devices' is the federated setting; no efficiency number.")
L("2403.15802", note="Negative (hard): 'doubly robust' is a statistics term, not 'doubles'.")
