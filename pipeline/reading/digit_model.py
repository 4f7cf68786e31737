"""The digit classifier's models without their training libraries: the label-digit CNN through onnxruntime, the SVC with numpy.

The run's model is the CNN (`CnnModel`): ``digit_cnn.onnx`` beside this module, trained and exported by
scripts/train_digit_cnn.py (torch, at training time only) on 32×32 glyph boxes (digits.glyph_box), its softmax
already divided by the temperature fitted on its calibration split; it is read with onnxruntime, which the run
already loads for PP-OCR. The SVC below is the classifier it replaced, kept for the bench's comparison
(bench_handwritten_labels --classifier svc) and for a checkout whose model file is missing.

scikit-learn trains the classifier (reading/digits.py) but costs 1-3 s to import, more than every
other import of a run together, so the run never imports it: at training time `export` takes the
fitted `SVC(kernel="rbf", probability=True)` apart into arrays (support vectors, dual
coefficients, intercepts, gamma, the pairwise Platt sigmoids A and B), saved as an ``.npz`` next
to the pickle, and `SvcModel.predict_proba` redoes what libsvm's ``svm_predict_probability`` does
with them: the RBF kernel against every support vector, one decision value per pair of classes,
each through its sigmoid (clipped to [1e-7, 1 - 1e-7]), and the pairwise probabilities coupled
into one distribution by Wu, Lin and Weng's method (libsvm's ``multiclass_probability``, the same
iterations and stopping rule). tests/test_digit_model.py holds it to scikit-learn's own
``predict_proba`` within 1e-6 on MNIST rows.

Another kind of fitted model (the CalibratedClassifierCV a scikit-learn without
``probability=True`` trains) is not taken apart: `export` raises TypeError and the caller keeps
the pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

CNN_KIND = "digit-cnn-v1"  # the ONNX file's metadata 'kind'; a file of another kind is not read
CNN_PATH = Path(__file__).with_name("digit_cnn.onnx")
KIND = "svc-rbf-platt-v1"  # what an .npz holds; a file of another kind is not read
MIN_PROB = 1e-7  # libsvm's clip of a pairwise probability (svm_predict_probability)


class CnnModel:
    """The label-digit CNN as an onnxruntime session; `predict_proba` of 32×32 glyph boxes (digits.glyph_box), classes 0-9."""

    classes_ = np.array([str(d) for d in range(10)])
    takes_boxes = True  # fed glyph boxes, not digits.features

    def __init__(self, session: Any) -> None:
        self._session = session

    @classmethod
    def load(cls, path: Path = CNN_PATH) -> CnnModel:
        """The model at ``path`` on one thread; ValueError when it is not a digit CNN, OSError when it cannot be read."""
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise OSError("onnxruntime is not installed") from exc
        if not path.is_file():
            raise OSError(f"{path}: no such file")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # a few glyphs a line: threads cost more than they give
        opts.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types (InvalidProtobuf, Fail, ...)
            raise ValueError(f"{path}: {exc}") from exc
        if session.get_modelmeta().custom_metadata_map.get("kind") != CNN_KIND:
            raise ValueError(f"{path}: not a {CNN_KIND} model")
        return cls(session)

    def predict_proba(self, boxes: NDArray[Any]) -> NDArray[np.float64]:
        """One row of probabilities of 0-9 per box (n×32×32, non-zero = ink)."""
        x = (np.asarray(boxes).reshape(-1, 1, 32, 32) > 0).astype(np.float32)
        if not len(x):
            return np.empty((0, 10))
        (probs,) = self._session.run(None, {"glyphs": x})
        return np.asarray(probs, np.float64)


class SvcModel:
    """A multiclass RBF SVC with libsvm's pairwise Platt probabilities, as arrays; `predict_proba` as scikit-learn's."""

    def __init__(self, arrays: dict[str, NDArray[Any]]) -> None:
        self.support_vectors = np.asarray(arrays["support_vectors"], np.float64)
        self.dual_coef = np.asarray(arrays["dual_coef"], np.float64)
        self.intercept = np.asarray(arrays["intercept"], np.float64)
        self.prob_a = np.asarray(arrays["prob_a"], np.float64)
        self.prob_b = np.asarray(arrays["prob_b"], np.float64)
        self.n_support = np.asarray(arrays["n_support"], np.int64)
        self.gamma = float(arrays["gamma"])
        self.classes_ = np.asarray(arrays["classes"])
        k = len(self.classes_)
        pairs = k * (k - 1) // 2
        if len(self.n_support) != k or self.dual_coef.shape != (k - 1, len(self.support_vectors)) or self.intercept.shape != (pairs,):
            raise ValueError("inconsistent SVC arrays")
        if self.prob_a.shape != (pairs,) or self.prob_b.shape != (pairs,) or int(self.n_support.sum()) != len(self.support_vectors):
            raise ValueError("inconsistent SVC arrays")
        self._sv_norms = np.einsum("ij,ij->i", self.support_vectors, self.support_vectors)

    @classmethod
    def load(cls, path: Path) -> SvcModel:
        """The model written by `save_to`; ValueError (or OSError) when the file is not one."""
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        if str(arrays.get("kind", "")) != KIND:
            raise ValueError(f"{path}: not a {KIND} model")
        return cls(arrays)

    def save_to(self, fh: BinaryIO) -> None:
        """Write the arrays to an open binary file as an .npz (uncompressed: it loads in milliseconds)."""
        np.savez(
            fh,
            kind=np.array(KIND),
            support_vectors=self.support_vectors,
            dual_coef=self.dual_coef,
            intercept=self.intercept,
            prob_a=self.prob_a,
            prob_b=self.prob_b,
            n_support=self.n_support,
            gamma=np.array(self.gamma),
            classes=self.classes_,
        )

    def decision_values(self, x: NDArray[Any]) -> NDArray[np.float64]:
        """libsvm's one-against-one decision values, one column per pair (i, j), i < j, in libsvm's order."""
        x = np.asarray(x, np.float64).reshape(-1, self.support_vectors.shape[1])
        # one matrix-vector product per glyph: a matrix product of a few glyphs goes to OpenBLAS's threads, which on a
        # busy machine took 16 ms for 5 glyphs against 1.1 ms this way
        dots = np.stack([self.support_vectors @ row for row in x]) if len(x) else np.empty((0, len(self.support_vectors)))
        d2 = np.einsum("ij,ij->i", x, x)[:, None] + self._sv_norms[None, :] - 2.0 * dots
        kernel = np.exp(-self.gamma * np.maximum(d2, 0.0))
        start = np.concatenate([[0], np.cumsum(self.n_support)[:-1]])
        k = len(self.classes_)
        out = np.empty((len(x), k * (k - 1) // 2))
        p = 0
        for i in range(k):
            si = slice(start[i], start[i] + self.n_support[i])
            for j in range(i + 1, k):
                sj = slice(start[j], start[j] + self.n_support[j])
                out[:, p] = kernel[:, si] @ self.dual_coef[j - 1, si] + kernel[:, sj] @ self.dual_coef[i, sj] + self.intercept[p]
                p += 1
        return out

    def predict_proba(self, x: NDArray[Any]) -> NDArray[np.float64]:
        """One row of class probabilities per row of ``x`` (columns in the order of ``classes_``)."""
        dec = self.decision_values(x)
        f = dec * self.prob_a + self.prob_b  # libsvm's sigmoid_predict, written to avoid cancellation as it is
        e = np.exp(-np.abs(f))
        pair = np.clip(np.where(f >= 0, e / (1.0 + e), 1.0 / (1.0 + e)), MIN_PROB, 1 - MIN_PROB)
        k = len(self.classes_)
        r = np.zeros((len(dec), k, k))
        iu, ju = np.triu_indices(k, 1)  # row-major: the same order as the pairs above
        r[:, iu, ju] = pair
        r[:, ju, iu] = 1.0 - pair
        return couple(r)


def couple(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """libsvm's multiclass_probability for many samples at once: r[n, i, j] = P(class i | i or j, sample n) -> P(class | sample n).

    Each sample iterates as libsvm's loop does (Q, Qp and pQp updated class by class) until its own
    stopping rule holds (max |Qp - pQp| < 0.005 / k) or max(100, k) iterations have run.
    """
    n, k, _ = r.shape
    rt = r.transpose(0, 2, 1)  # rt[:, t, j] = r[:, j, t]
    q = -rt * r
    idx = np.arange(k)
    q[:, idx, idx] = np.sum(rt * rt, axis=2)  # r[t, t] is 0: Q[t][t] = sum over j != t of r[j][t]^2
    p = np.full((n, k), 1.0 / k)
    eps = 0.005 / k
    active = np.arange(n)
    for _ in range(max(100, k)):
        qa, pa = q[active], p[active]
        qp = np.einsum("ntj,nj->nt", qa, pa)
        pqp = np.sum(pa * qp, axis=1)
        going = np.max(np.abs(qp - pqp[:, None]), axis=1) >= eps
        active, qa, pa, qp, pqp = active[going], qa[going], pa[going], qp[going], pqp[going]
        if not len(active):
            break
        for t in range(k):
            qtt = qa[:, t, t]
            diff = (-qp[:, t] + pqp) / qtt
            pa[:, t] += diff
            pqp = (pqp + diff * (diff * qtt + 2 * qp[:, t])) / (1 + diff) / (1 + diff)
            qp = (qp + diff[:, None] * qa[:, t, :]) / (1 + diff)[:, None]
            pa /= (1 + diff)[:, None]
        p[active] = pa
    return p


def export(model: Any) -> SvcModel:
    """The arrays of a fitted scikit-learn ``SVC(kernel="rbf", probability=True)``; TypeError for any other model."""
    if type(model).__name__ != "SVC" or getattr(model, "kernel", None) != "rbf" or getattr(model, "_sparse", True):
        raise TypeError(f"not a dense RBF SVC: {type(model).__name__}")
    prob_a, prob_b = getattr(model, "_probA", np.empty(0)), getattr(model, "_probB", np.empty(0))
    if not np.size(prob_a) or len(model.classes_) < 3:  # no Platt sigmoids, or a binary SVC (libsvm's other branch)
        raise TypeError("not a multiclass SVC with probability=True")
    return SvcModel(
        {
            "support_vectors": model.support_vectors_,
            "dual_coef": model._dual_coef_,
            "intercept": model._intercept_,
            "prob_a": prob_a,
            "prob_b": prob_b,
            "n_support": model._n_support,
            "gamma": np.array(model._gamma),
            "classes": np.asarray(model.classes_),
        }
    )


__all__ = ["CNN_KIND", "CNN_PATH", "KIND", "CnnModel", "SvcModel", "couple", "export"]
