"""Views of instance-wise selections: image heat maps and highlighted words."""

import html
import re

import numpy as np

__all__ = ["highlight_words", "plot_image_selection", "plot_text_selection"]

# scikit-learn's CountVectorizer default tokens.
_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _selected_vocabulary(mask_row, feature_names):
    feature_names = np.asarray(feature_names, dtype=object)
    mask_row = np.asarray(mask_row, dtype=bool)
    if mask_row.shape != feature_names.shape:
        raise ValueError(
            f"A mask row has {mask_row.shape[0]} entries but feature_names has "
            f"{feature_names.shape[0]}; pass the vectorizer's "
            "get_feature_names_out()."
        )
    return {str(w) for w in feature_names[mask_row]}


def highlight_words(
    texts, mask, feature_names, *, style="brackets", token_pattern=_TOKEN_PATTERN
):
    """Mark the selected words of each text.

    Parameters
    ----------
    texts : sequence of str of length n_samples
        The raw texts.
    mask : array-like of bool, shape (n_samples, n_words)
        Selection over the vocabulary of a bag-of-words representation, for
        example ``L2XSelector.explain(counts).mask``.
    feature_names : array-like of str of shape (n_words,)
        The vocabulary (``vectorizer.get_feature_names_out()``).
    style : {"brackets", "html"}, default="brackets"
        ``"brackets"`` writes ``[word]``; ``"html"`` wraps the word in
        ``<mark>`` and escapes the rest.
    token_pattern : str, default=r"(?u)\\b\\w\\w+\\b"
        The tokens that are matched (lower-cased) against the vocabulary;
        the default is :class:`~sklearn.feature_extraction.text.CountVectorizer`'s.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from skcfx.feature_selection import highlight_words
    >>> highlight_words(["Great food, bad service."], [[True, False, False]],
    ...                 ["great", "food", "bad"])
    ['[Great] food, bad service.']
    """
    if style not in ("brackets", "html"):
        raise ValueError(f"style={style!r} must be 'brackets' or 'html'.")
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    if len(mask) != len(texts):
        raise ValueError(
            f"mask has {len(mask)} rows but {len(texts)} texts were given."
        )
    pattern = re.compile(token_pattern)
    out = []
    for text, row in zip(texts, mask):
        chosen = _selected_vocabulary(row, feature_names)
        pieces, last = [], 0
        for match in pattern.finditer(text):
            start, end = match.span()
            word = match.group(0)
            before = text[last:start]
            pieces.append(html.escape(before) if style == "html" else before)
            if word.lower() in chosen:
                word = (
                    f"<mark>{html.escape(word)}</mark>"
                    if style == "html"
                    else f"[{word}]"
                )
            elif style == "html":
                word = html.escape(word)
            pieces.append(word)
            last = end
        rest = text[last:]
        pieces.append(html.escape(rest) if style == "html" else rest)
        out.append("".join(pieces))
    return out


def plot_text_selection(
    texts,
    mask,
    feature_names,
    *,
    ax=None,
    token_pattern=_TOKEN_PATTERN,
    color="gold",
    fontsize=10,
):
    """Draw texts one per line with their selected words highlighted.

    Each text is laid out piece by piece (words and the gaps between them)
    from the *rendered* extent of every piece, so the highlight boxes cover
    exactly the selected words in any font; a text wider than the axes is
    cut with an ellipsis.

    Parameters
    ----------
    texts : sequence of str of length n_samples
        The raw texts (one line each).
    mask : array-like of bool, shape (n_samples, n_words)
        Selection over the vocabulary.
    feature_names : array-like of str of shape (n_words,)
        The vocabulary.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    token_pattern : str, default=CountVectorizer's
        Tokens matched against the vocabulary.
    color : str, default="gold"
        Highlight colour.
    fontsize : float, default=10
        Font size of the texts.

    Returns
    -------
    ax : matplotlib Axes
        Every piece of text is one ``Text`` artist in ``ax.texts`` (in
        reading order); a selected word's artist carries a highlight box
        (``get_bbox_patch()``), the others none.
    """
    import matplotlib.pyplot as plt

    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    if len(mask) != len(texts):
        raise ValueError(
            f"mask has {len(mask)} rows but {len(texts)} texts were given."
        )
    n = len(texts)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.4 * n + 0.5))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_axes = ax.transAxes.inverted()
    pattern = re.compile(token_pattern)
    box = dict(boxstyle="square,pad=0.05", facecolor=color, edgecolor="none")

    def width(artist):
        ext = artist.get_window_extent(renderer)
        (x0, _), (x1, _) = to_axes.transform([(ext.x0, ext.y0), (ext.x1, ext.y0)])
        return x1 - x0

    # a gap's width is measured between two visible characters, as spaces
    # alone have no ink extent
    probe = ax.text(0, 0, "x", fontsize=fontsize)
    x_width = width(probe)
    probe.remove()

    for i, (text, row) in enumerate(zip(texts, mask)):
        chosen = _selected_vocabulary(row, feature_names)
        y = 1 - (i + 0.5) / max(n, 1)
        pieces, last = [], 0
        for match in pattern.finditer(text):
            if match.start() > last:
                pieces.append((text[last : match.start()], False))
            pieces.append((match.group(0), match.group(0).lower() in chosen))
            last = match.end()
        if last < len(text):
            pieces.append((text[last:], False))
        x = 0.0
        for piece, selected in pieces:
            shown = piece.strip()
            if not shown:  # whitespace only: advance by its measured width
                probe = ax.text(0, 0, f"x{piece}x", fontsize=fontsize)
                x += width(probe) - 2 * x_width
                probe.remove()
                continue
            lead = len(piece) - len(piece.lstrip())
            if lead:
                probe = ax.text(0, 0, f"x{piece[:lead]}x", fontsize=fontsize)
                x += width(probe) - 2 * x_width
                probe.remove()
            artist = ax.text(
                x,
                y,
                shown,
                fontsize=fontsize,
                va="center",
                ha="left",
                bbox=box if selected else None,
            )
            w = width(artist)
            if x + w > 1.0:
                artist.set_text("...")
                artist.set_bbox(None)
                break
            x += w
            trail = len(piece) - len(piece.rstrip())
            if trail:
                probe = ax.text(0, 0, f"x{piece[-trail:]}x", fontsize=fontsize)
                x += width(probe) - 2 * x_width
                probe.remove()
    return ax


def plot_image_selection(
    images, mask, *, image_shape=None, titles=None, axes=None, cmap="gray_r"
):
    """Show images with their selected pixels outlined in colour.

    Parameters
    ----------
    images : array-like of shape (n_images, n_pixels) or (n_images, h, w)
        The images (flattened rows are reshaped with ``image_shape``).
    mask : array-like of bool of the same shape
        Selected pixels, for example ``L2XSelector.explain(X).mask``.
    image_shape : tuple of int, default=None
        ``(h, w)`` of flattened images; inferred for square images.
    titles : list of str, default=None
        One title per image.
    axes : array of matplotlib Axes, default=None
        One per image; a new row of subplots when None.
    cmap : str, default="gray_r"
        Colour map of the images.

    Returns
    -------
    axes : ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if images.shape != mask.shape:
        raise ValueError(
            f"images have shape {images.shape} but mask has shape {mask.shape}."
        )
    if images.ndim == 2:
        if image_shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError(
                    f"Images of {images.shape[1]} pixels are not square; pass "
                    "image_shape=(height, width)."
                )
            image_shape = (side, side)
        images = images.reshape((len(images), *image_shape))
        mask = mask.reshape(images.shape)
    n = len(images)
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(1.8 * n, 2.0), squeeze=False)
    axes = np.ravel(axes)
    for i in range(n):
        ax = axes[i]
        ax.imshow(images[i], cmap=cmap, interpolation="nearest")
        overlay = np.zeros((*images[i].shape, 4))
        overlay[mask[i]] = (0.85, 0.1, 0.1, 0.55)
        ax.imshow(overlay, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return axes
