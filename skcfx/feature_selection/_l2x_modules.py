"""torch parts of L2X: the explainer/approximator network and its callback.

Imported only by :class:`~skcfx.L2XSelector` at fit time, so that
``import skcfx`` needs no torch.
"""

import copy

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

__all__ = [
    "AnnealTemperature",
    "L2XLoss",
    "L2XNetwork",
    "SelectByHeldOutFidelity",
    "Teach",
    "concrete_k_hot",
    "hard_k_hot",
]


# Offset that puts a logit below every ordinary logit (and keeps Gumbel draws
# from selecting it while any other group is left).
_PUSH_DOWN = 1e4


def _mlp(n_in, hidden, n_out):
    layers = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), nn.ReLU()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def concrete_k_hot(logits, k, tau):
    """Relaxed k-hot mask: elementwise max of k Concrete (Gumbel-softmax) draws.

    Parameters
    ----------
    logits : Tensor of shape (n, G)
    k : int
    tau : float
        Temperature; small values give nearly one-hot draws.

    Returns
    -------
    Tensor of shape (n, G) with entries in (0, 1].
    """
    n, G = logits.shape
    u = torch.rand((n, k, G), dtype=logits.dtype, device=logits.device)
    tiny = torch.finfo(logits.dtype).tiny
    gumbel = -torch.log((-torch.log(u.clamp_min(tiny))).clamp_min(tiny))
    draws = torch.softmax((logits.unsqueeze(1) + gumbel) / tau, dim=-1)
    return draws.max(dim=1).values


def hard_k_hot(logits, k):
    """Deterministic k-hot mask of the k largest logits of each row.

    Ties are broken towards the lower index (a stable descending sort), so
    the mask has exactly ``k`` ones per row.
    """
    order = torch.argsort(logits, dim=1, descending=True, stable=True)
    mask = torch.zeros_like(logits)
    mask.scatter_(1, order[:, :k], 1.0)
    return mask


class L2XNetwork(nn.Module):
    """Explainer and variational approximator of L2X, trained jointly.

    The explainer maps a (standardised) row to one logit per feature group.
    In training mode the forward pass samples a relaxed k-hot group mask
    with :func:`concrete_k_hot`; in evaluation mode it takes the hard top-k.
    The mask is expanded from groups to features, unselected entries are
    replaced by the baseline, and the approximator predicts the model's
    output logits from the masked row.

    Parameters
    ----------
    n_features : int
        Input width (filled from ``n_features_in_``).
    n_outputs : int
        Number of classes of the explained output.
    group_index : array-like of int, shape (n_features,)
        Group of each feature.
    k : int
        Number of groups selected per row.
    tau : float
        Gumbel-softmax temperature.
    explainer_hidden : tuple of int
    approximator_hidden : tuple of int
    center, scale : array-like of shape (n_features,)
        Standardisation of the inputs, learned on the training rows.
    baseline : array-like of shape (n_features,)
        Raw value that replaces an unselected entry.
    random_mask_weight : float, default=0.0
        Weight of the approximator's loss on uniformly random k-subsets.
    ignore_baseline_entries : bool, default=False
    removal : {"conditional", "baseline"}, default="conditional"
        What the approximator learns. "conditional": the explained output
        of the full row, from the masked row (the paper's). "baseline": the
        explained model's output on the masked row itself, given by
        ``teacher`` (set while training, see :class:`Teach`); the explainer
        then learns, through a copy of the approximator that its loss does
        not train, the masks under which that output is the full row's.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        group_index,
        k,
        tau,
        explainer_hidden,
        approximator_hidden,
        center,
        scale,
        baseline,
        random_mask_weight=0.0,
        ignore_baseline_entries=False,
        removal="conditional",
    ):
        super().__init__()
        self.removal = removal
        self.teacher = None  # set while training with removal="baseline"
        self.ignore_baseline_entries = bool(ignore_baseline_entries)
        self.random_mask_weight = float(random_mask_weight)
        group_index = torch.as_tensor(np.asarray(group_index), dtype=torch.long)
        self.n_groups = int(group_index.max()) + 1
        self.k = int(k)
        self.tau = float(tau)
        self.register_buffer("group_index", group_index)
        self.register_buffer("center", torch.as_tensor(center, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        baseline = torch.as_tensor(baseline, dtype=torch.float32)
        self.register_buffer("baseline", baseline)
        self.register_buffer("z_baseline", (baseline - self.center) / self.scale)
        self.explainer = _mlp(n_features, explainer_hidden, self.n_groups)
        self.approximator = _mlp(n_features, approximator_hidden, n_outputs)

    def standardize(self, X):
        return (X - self.center) / self.scale

    def explainer_logits(self, X):
        """Group logits of raw rows ``X`` (shape (n, n_groups)).

        With ``ignore_baseline_entries``, groups whose entries all equal the
        baseline are pushed below every other group (keeping them or not
        gives the same row), keeping their order among themselves.
        """
        logits = self.explainer(self.standardize(X))
        if self.ignore_baseline_entries:
            differs = (X != self.baseline).to(logits.dtype)
            informative = torch.zeros_like(logits).index_add_(
                1, self.group_index, differs
            )
            logits = torch.where(informative > 0, logits, logits - _PUSH_DOWN)
        return logits

    def approximate(self, X, group_mask):
        """Approximator logits for raw rows ``X`` under a group mask."""
        return self.approximator(self._masked_input(X, group_mask[:, self.group_index]))

    def _masked_input(self, X, mask):
        """Standardised rows with the unselected entries at the baseline."""
        return self.standardize(X) * mask + self.z_baseline * (1.0 - mask)

    def forward(self, X):
        logits = self.explainer_logits(X)
        if not self.training:
            return self.approximate(X, hard_k_hot(logits, self.k))
        soft = concrete_k_hot(logits, self.k, self.tau)
        if self.removal == "baseline":
            return self._forward_baseline(X, soft[:, self.group_index])
        selected = self.approximate(X, soft)
        if not self.random_mask_weight:
            return selected
        # The same approximator on uniformly random k-subsets: it must stay a
        # model of the output given *any* k groups, so it cannot learn to
        # read the label from which groups the explainer left out.
        random_mask = hard_k_hot(torch.rand_like(logits), self.k)
        return selected, self.approximate(X, random_mask)

    def _forward_baseline(self, X, mask):
        """Training outputs for ``removal="baseline"``: the explainer's
        view (approximator weights held fixed), the approximator's fit to
        the model on the same masked rows (the mask held fixed) and on
        random k-subsets, and the model's outputs on those rows (one
        ``teacher`` call)."""
        from torch.func import functional_call

        if self.teacher is None:
            raise RuntimeError('removal="baseline" trains with a teacher set.')
        z = self._masked_input(X, mask)
        fixed = {n: p.detach() for n, p in self.approximator.named_parameters()}
        selected = functional_call(self.approximator, fixed, (z,))
        mask = mask.detach()
        rows = [X * mask + self.baseline * (1.0 - mask)]
        fitted = [self.approximator(z.detach())]
        if self.random_mask_weight:
            n = len(X)
            random_mask = hard_k_hot(
                torch.rand((n, self.n_groups), device=X.device), self.k
            )[:, self.group_index]
            rows.append(X * random_mask + self.baseline * (1.0 - random_mask))
            fitted.append(self.approximator(self._masked_input(X, random_mask)))
        rows = torch.cat(rows)
        target = self.teacher(rows.detach().cpu().numpy())
        target = torch.as_tensor(target, dtype=selected.dtype, device=X.device)
        return BaselineOutputs(selected, torch.cat(fitted), target)


class BaselineOutputs(tuple):
    """Training outputs of ``removal="baseline"``: ``(selected, fitted,
    target)``; ``fitted`` and ``target`` hold the explainer's masked rows,
    then the random masks' rows."""

    def __new__(cls, selected, fitted, target):
        return super().__new__(cls, (selected, fitted, target))


class L2XLoss(nn.Module):
    """Cross-entropy against soft targets (a squared loss for a regression's
    standardised output), for one or two approximator outputs.

    In training the network returns the approximator's logits on the
    explainer's relaxed masks and, when ``random_mask_weight > 0``, on random
    masks; the loss is ``CE(selected) + random_mask_weight * CE(random)``.
    """

    def __init__(self, random_mask_weight=0.0, regression=False):
        super().__init__()
        self.random_mask_weight = float(random_mask_weight)
        # a regression's standardised output: the squared loss (the bound
        # of a Gaussian approximator with fixed variance)
        self.cross_entropy = nn.MSELoss() if regression else nn.CrossEntropyLoss()

    def forward(self, y_pred, y_true):
        if isinstance(y_pred, BaselineOutputs):
            selected, fitted, target = y_pred
            n = len(selected)
            loss = self.cross_entropy(selected, y_true)
            loss = loss + self.cross_entropy(fitted[:n], target[:n])
            if len(fitted) > n:
                loss = loss + self.random_mask_weight * self.cross_entropy(
                    fitted[n:], target[n:]
                )
            return loss
        if isinstance(y_pred, tuple):
            selected, random = y_pred
            return self.cross_entropy(
                selected, y_true
            ) + self.random_mask_weight * self.cross_entropy(random, y_true)
        return self.cross_entropy(y_pred, y_true)


class Teach(Callback):
    """Give the network the explained model's outputs while it trains
    (``removal="baseline"``), and take them away afterwards so that the
    fitted net pickles without the model.

    Parameters
    ----------
    teacher : callable
        Maps raw float32 rows (ndarray) to the training targets of those
        rows (tempered class probabilities, or a regression's standardised
        output of shape (n, 1)).
    """

    def __init__(self, teacher):
        self.teacher = teacher

    def on_train_begin(self, net, **kwargs):
        net.module_.teacher = self.teacher

    def on_train_end(self, net, **kwargs):
        net.module_.teacher = None
        self.teacher = None


class AnnealTemperature(Callback):
    """Lower the Gumbel-softmax temperature geometrically over the epochs.

    Epoch ``e`` (1-based) of ``E`` trains at
    ``tau_start * (tau_end / tau_start) ** ((e - 1) / (E - 1))``. A warm
    start (high temperature, nearly uniform masks) lets the approximator
    learn from all features before the selection sharpens, which is what
    makes jointly informative features (XOR) findable.

    Parameters
    ----------
    tau_start, tau_end : float
    """

    def __init__(self, tau_start, tau_end):
        self.tau_start = tau_start
        self.tau_end = tau_end

    def on_epoch_begin(self, net, **kwargs):
        n_epochs = max(int(net.max_epochs) - 1, 1)
        epoch = len(net.history) - 1  # the history already holds this epoch
        frac = min(epoch / n_epochs, 1.0)
        net.module_.tau = float(
            self.tau_start * (self.tau_end / self.tau_start) ** frac
        )


class SelectByHeldOutFidelity(Callback):
    """Keep the epoch whose hard selections are most faithful on held-out rows.

    After every epoch the explainer's deterministic top-k masks of the
    held-out rows are scored by ``fidelity(group_mask, module)``, a callable
    returning a dict of named figures (computed with the explained model,
    not the approximator, when there is one); each figure is recorded in the
    history, and the weights of the epoch with the highest
    ``scores[criterion]`` (the latest one among equals) are restored when
    training ends.

    Parameters
    ----------
    X_valid : ndarray of shape (n_valid, n_features), float32
        Held-out rows.
    fidelity : callable
        ``fidelity(group_mask, module)`` maps a boolean group mask of shape
        (n_valid, n_groups) and the network (in evaluation mode) to a dict
        of floats.
    criterion : str
        The key of that dict to maximise.
    first_epoch : int, default=1
        Earlier epochs are scored and recorded but never kept.
    """

    def __init__(self, X_valid, fidelity, criterion, first_epoch=1):
        self.first_epoch = first_epoch
        self.X_valid = X_valid
        self.fidelity = fidelity
        self.criterion = criterion

    def initialize(self):
        self.best_score_ = -np.inf
        self.best_epoch_ = 0
        self.best_state_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            X = torch.as_tensor(self.X_valid, device=net.device)
            mask = hard_k_hot(module.explainer_logits(X), module.k)
            scores = self.fidelity(mask.cpu().numpy().astype(bool), module)
        module.train(was_training)
        for key, value in scores.items():
            net.history.record(key, float(value))
        score = float(scores[self.criterion])
        if len(net.history) < self.first_epoch:
            return
        if score >= self.best_score_:
            self.best_score_ = score
            self.best_epoch_ = len(net.history)
            self.best_state_ = copy.deepcopy(module.state_dict())

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        # Drop the data and closures so that the fitted net pickles lightly.
        self.X_valid = None
        self.fidelity = None
        self.best_state_ = None
